package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/footfall/footfall/store"
)

// stageVisits stages the visit rows of a ReplaceRollups' windows, the
// values each touched and the rollups they make (visits_stage,
// visit_values_stage, rollups_stage) from one read of the events in the
// order of their index (visits_events.sql). The visits are cut here, in
// Go, by the rules the rows fragment states in SQL (rollup_frag_rows.sql),
// which the reports keep reading: SQLite's window functions sorted every
// event twice per granularity, and that was three quarters of the
// aggregation's time. The store conformance suite and
// TestStageVisitsMatchesRowsFragment hold the two to the same answers.
func (s *Store) stageVisits(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, windows []store.Window) error {
	groups, dims, err := s.readVisitEvents(ctx, conn, spec, windows)
	if err != nil {
		return err
	}
	insertVisit, err := conn.PrepareContext(ctx, s.query("visits_stage_insert"))
	if err != nil {
		return err
	}
	defer insertVisit.Close()
	insertValue, err := conn.PrepareContext(ctx, s.query("visit_values_stage_insert"))
	if err != nil {
		return err
	}
	defer insertValue.Close()
	var (
		id      int64
		session bytes.Buffer
		touched = map[touchedKey]*touchedSums{}
		cells   = rollupCells{}
	)
	for _, g := range groups {
		for _, v := range g.visits(dims) {
			id++
			m := v.metrics()
			v.sessionJSON(&session)
			if _, err := insertVisit.ExecContext(ctx,
				sql.Named("id", id), sql.Named("site", spec.SiteID), sql.Named("granularity", string(spec.Granularity)),
				sql.Named("win", g.key.win), sql.Named("visitor_key", g.key.visitorKey), sql.Named("session_id", g.key.sessionID),
				sql.Named("visit", v.number), sql.Named("t0", m.start), sql.Named("pv", m.pageviews), sql.Named("ev", m.events),
				sql.Named("bounce", m.bounce), sql.Named("dur", m.duration), sql.Named("eng", m.engagedMS),
				sql.Named("session", session.String()), sql.Named("touched_version", store.TouchedVersion),
				sql.Named("partial", spec.Partial), sql.Named("version", int64(spec.Version))); err != nil {
				return fmt.Errorf("stage visit: %w", err)
			}
			cells.add(g.key, store.DimTotal, "", m)
			for _, d := range dims {
				if d.rollup {
					cells.add(g.key, d.name, v.sessionValue(d), m)
				}
			}
			clear(touched)
			if err := v.touch(touched); err != nil {
				return err
			}
			for k, t := range touched {
				if _, err := insertValue.ExecContext(ctx, id, k.dim, k.value, t.pageviews, t.events, t.engagedMS); err != nil {
					return fmt.Errorf("stage visit values: %w", err)
				}
				if rollupDimension[k.dim] {
					cells.add(g.key, k.dim, k.value, visitMetrics{pageviews: t.pageviews, events: t.events, engagedMS: t.engagedMS})
				}
			}
		}
	}
	return s.stageRollupCells(ctx, conn, spec, cells)
}

// rollupDimension says which dimensions the rollups have (the e-mail ones
// come from rollups_insert_email.sql, not from visits).
var rollupDimension = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range store.RollupDimensions {
		m[d] = true
	}
	return m
}()

type cellKey struct {
	win        int64
	dim, value string
}

// rollupCell is one rollup row being summed. Visits come in order of
// window and visitor key, so a visitor's visits to a cell are consecutive
// and counting distinct visitors needs only the last one.
type rollupCell struct {
	visitors, visits int64
	m                visitMetrics // summed; start unused
	last             int64        // the last visitor key counted
}

type rollupCells map[cellKey]*rollupCell

// add counts one visit (of the group's visitor key) in the cell of dim and
// value, with the metrics m it brings there.
func (cs rollupCells) add(g groupKey, dim, value string, m visitMetrics) {
	k := cellKey{g.win, dim, value}
	c := cs[k]
	if c == nil {
		c = &rollupCell{visitors: 1, last: g.visitorKey}
		cs[k] = c
	} else if c.last != g.visitorKey {
		c.visitors++
		c.last = g.visitorKey
	}
	c.visits++
	c.m.pageviews += m.pageviews
	c.m.events += m.events
	c.m.bounce += m.bounce
	c.m.duration += m.duration
	c.m.engagedMS += m.engagedMS
}

// stageRollupCells writes the summed cells to the rollup stage.
func (s *Store) stageRollupCells(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, cells rollupCells) error {
	insert, err := conn.PrepareContext(ctx, s.query("rollups_stage_insert"))
	if err != nil {
		return err
	}
	defer insert.Close()
	for k, c := range cells {
		if _, err := insert.ExecContext(ctx, spec.SiteID, string(spec.Granularity), k.win, k.dim, k.value,
			c.visitors, c.visits, c.m.pageviews, c.m.events, c.m.bounce, c.m.duration, c.m.engagedMS,
			spec.Partial, int64(spec.Version)); err != nil {
			return fmt.Errorf("stage rollups: %w", err)
		}
	}
	return nil
}

// visitEvent is one event as a visit row reads it.
type visitEvent struct {
	k         int64 // time, then type: the order of a visit's events (rollup_frag_period_events.sql)
	id        string
	ts        int64
	typ       string
	path      string
	session   []string // the session dimensions' columns (sessionDim.column)
	name      string
	target    string
	props     string
	engagedMS int64
}

type groupKey struct{ win, visitorKey, sessionID int64 }

// eventGroup is the events of one visitor key and session id in one
// window: one visit with a session id, else as many as its gaps make.
type eventGroup struct {
	key    groupKey
	events []visitEvent
}

// sessionDim is a session dimension and where its column is in an
// event's session values.
type sessionDim struct {
	name   string
	column int
	last   bool
	rollup bool // the rollups have it (store.DimSpec.Rollup)
}

// readVisitEvents reads the events of spec's windows, grouped per window,
// visitor key and session id, groups and their events in visit order, and
// says where each session dimension's value is in an event's session.
func (s *Store) readVisitEvents(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, windows []store.Window) ([]*eventGroup, []sessionDim, error) {
	rows, err := conn.QueryContext(ctx, s.query("visits_events"),
		sql.Named("site", spec.SiteID), sql.Named("from", spec.From.Unix()), sql.Named("to", spec.To.Unix()))
	if err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var (
		groups = map[groupKey]*eventGroup{}
		key    groupKey
		e      visitEvent
	)
	dest := []any{&key.visitorKey, &key.sessionID, &e.ts, &e.typ, &e.id, &e.path, &e.name, &e.target, &e.props, &e.engagedMS}
	columns := names[len(dest):] // the session dimensions' columns
	cols := make([]string, len(columns))
	for i := range cols {
		dest = append(dest, &cols[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("read events: %w", err)
		}
		i := sort.Search(len(windows), func(i int) bool { return windows[i].End.Unix() > e.ts })
		if i == len(windows) || e.ts < windows[i].Start.Unix() {
			continue
		}
		key.win = windows[i].Start.Unix()
		e.k = e.ts*8 + typeOrder(e.typ)
		e.session = slices.Clone(cols)
		g := groups[key]
		if g == nil {
			g = &eventGroup{key: key}
			groups[key] = g
		}
		g.events = append(g.events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	out := make([]*eventGroup, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g.events, func(a, b visitEvent) int {
			return cmp.Or(cmp.Compare(a.k, b.k), cmp.Compare(a.id, b.id))
		})
		out = append(out, g)
	}
	// The stage numbers visits in this order (window, visitor key, session
	// id, visit), as the rows fragment's reference statement does.
	slices.SortFunc(out, func(a, b *eventGroup) int {
		return cmp.Or(cmp.Compare(a.key.win, b.key.win), cmp.Compare(a.key.visitorKey, b.key.visitorKey),
			cmp.Compare(a.key.sessionID, b.key.sessionID))
	})
	return out, sessionDims(columns), nil
}

// typeOrder ranks event types within a second: pageview first, as the
// SQL fragments' k does.
func typeOrder(t string) int64 {
	switch t {
	case "pageview":
		return 1
	case "click":
		return 2
	case "event":
		return 3
	}
	return 4
}

// sessionDims lists the session dimensions but the totals, each with the
// index in columns of the column it reads.
func sessionDims(columns []string) []sessionDim {
	var out []sessionDim
	for _, d := range store.Dimensions {
		if !d.Session || d.Name == store.DimTotal {
			continue
		}
		out = append(out, sessionDim{name: d.Name, column: slices.Index(columns, d.Column), last: d.Last, rollup: d.Rollup})
	}
	return out
}

// visit is a run of one group's events that forms a visit.
type visit struct {
	number int64 // 0 for a session id's visit, else 1, 2, … within the group
	events []visitEvent
	dims   []sessionDim
}

// visits cuts the group into visits: one for a session id; without one, a
// new visit after store.SessionTimeout without events.
func (g *eventGroup) visits(dims []sessionDim) []visit {
	if g.key.sessionID != 0 {
		return []visit{{number: 0, events: g.events, dims: dims}}
	}
	gap := int64(store.SessionTimeout / time.Second)
	var out []visit
	start := 0
	for i := 1; i <= len(g.events); i++ {
		if i == len(g.events) || g.events[i].ts-g.events[i-1].ts > gap {
			out = append(out, visit{number: int64(len(out) + 1), events: g.events[start:i], dims: dims})
			start = i
		}
	}
	return out
}

type visitMetrics struct {
	pageviews, events, bounce, start, duration, engagedMS int64
}

func (v visit) metrics() visitMetrics {
	m := visitMetrics{start: v.events[0].ts}
	end := m.start
	for _, e := range v.events {
		switch e.typ {
		case "pageview":
			m.pageviews++
		case "click", "event":
			m.events++
		}
		m.start, end = min(m.start, e.ts), max(end, e.ts)
		m.engagedMS += e.engagedMS
	}
	if m.pageviews == 1 && m.events == 0 {
		m.bounce = 1
	}
	m.duration = end - m.start
	return m
}

// sessionValue is the visit's value of d: its first event's, its last
// event's for exit_page.
func (v visit) sessionValue(d sessionDim) string {
	if d.last {
		return v.events[len(v.events)-1].session[d.column]
	}
	return v.events[0].session[d.column]
}

// sessionJSON writes the visit's session values, a JSON object by
// dimension name.
func (v visit) sessionJSON(b *bytes.Buffer) {
	b.Reset()
	b.WriteByte('{')
	for i, d := range v.dims {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, d.name)
		b.WriteByte(':')
		writeJSONString(b, v.sessionValue(d))
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // cannot fail: a string
	b.Write(enc)
}

type touchedKey struct{ dim, value string }

type touchedSums struct{ pageviews, events, engagedMS int64 }

// touch sums, per event-dimension value the visit's events had
// (store.TouchedDimensions), their pageviews, events and engaged time:
// every event's page, the names and targets that are not empty, and per
// custom property with a value its key (props) and value (props:KEY).
func (v visit) touch(into map[touchedKey]*touchedSums) error {
	add := func(dim, value string, e visitEvent) {
		t := into[touchedKey{dim, value}]
		if t == nil {
			t = &touchedSums{}
			into[touchedKey{dim, value}] = t
		}
		switch e.typ {
		case "pageview":
			t.pageviews++
		case "click", "event":
			t.events++
		}
		t.engagedMS += e.engagedMS
	}
	for _, e := range v.events {
		add(store.DimPage, e.path, e)
		if e.name != "" {
			add(store.DimEventName, e.name, e)
		}
		if e.target != "" {
			add(store.DimEventTarget, e.target, e)
		}
		if e.props == "[]" || e.props == "" {
			continue
		}
		var props [][2]string
		if err := json.Unmarshal([]byte(e.props), &props); err != nil {
			return fmt.Errorf("stage visit values: props of event %s: %w", e.id, err)
		}
		for _, p := range props {
			if p[1] != "" {
				add(store.DimProps, p[0], e)
				add(store.PropPrefix+p[0], p[1], e)
			}
		}
	}
	return nil
}
