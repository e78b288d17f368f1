package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

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
	groups, err := s.readVisitEvents(ctx, conn, spec, windows)
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
		cells   = store.NewRollupCells()
	)
	for _, g := range groups {
		for _, v := range store.CutVisits(g) {
			id++
			sessionJSON(&session, v.Session)
			if _, err := insertVisit.ExecContext(ctx,
				sql.Named("id", id), sql.Named("site", spec.SiteID), sql.Named("granularity", string(spec.Granularity)),
				sql.Named("win", v.WindowStart.Unix()), sql.Named("visitor_key", int64(v.VisitorKey)), sql.Named("session_id", int64(v.SessionID)),
				sql.Named("visit", v.Number), sql.Named("t0", v.Start.Unix()), sql.Named("pv", v.Pageviews), sql.Named("ev", v.Events),
				sql.Named("bounce", v.Bounce), sql.Named("dur", v.DurationSec), sql.Named("eng", v.EngagedMS),
				sql.Named("session", session.String()), sql.Named("touched_version", store.TouchedVersion),
				sql.Named("partial", spec.Partial), sql.Named("version", int64(spec.Version))); err != nil {
				return fmt.Errorf("stage visit: %w", err)
			}
			cells.Add(v.Visit)
			for _, x := range v.Values {
				if _, err := insertValue.ExecContext(ctx, id, x.Dimension, x.Value, x.Pageviews, x.Events, x.EngagedMS); err != nil {
					return fmt.Errorf("stage visit values: %w", err)
				}
			}
		}
	}
	return s.stageRollupCells(ctx, conn, spec, cells)
}

// stageRollupCells writes the summed cells to the rollup stage.
func (s *Store) stageRollupCells(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, cells *store.RollupCells) error {
	insert, err := conn.PrepareContext(ctx, s.query("rollups_stage_insert"))
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, r := range cells.Rows() {
		if _, err := insert.ExecContext(ctx, spec.SiteID, string(spec.Granularity), r.WindowStart.Unix(), r.Dimension, r.Value,
			r.Visitors, r.Visits, r.Pageviews, r.Events, r.Bounces, r.DurationSec, r.EngagedMS,
			spec.Partial, int64(spec.Version)); err != nil {
			return fmt.Errorf("stage rollups: %w", err)
		}
	}
	return nil
}

// readVisitEvents reads the events of spec's windows, grouped per window,
// visitor key and session id, in that order.
func (s *Store) readVisitEvents(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, windows []store.Window) ([]store.VisitGroup, error) {
	rows, err := conn.QueryContext(ctx, s.query("visits_events"),
		sql.Named("site", spec.SiteID), sql.Named("from", spec.From.Unix()), sql.Named("to", spec.To.Unix()))
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var (
		groups                = store.NewVisitGroups(spec)
		visitorKey, sessionID int64
		e                     store.VisitEvent
		typ, props            string
		session               = make([]string, len(store.SessionColumns))
	)
	dest := []any{&visitorKey, &sessionID, &e.Time, &typ, &e.ID, &e.Path, &e.Name, &e.Target, &props, &e.EngagedMS}
	for i := range session {
		dest = append(dest, &session[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		i := sort.Search(len(windows), func(i int) bool { return windows[i].End.Unix() > e.Time })
		if i == len(windows) || e.Time < windows[i].Start.Unix() {
			continue
		}
		e.Type = store.EventType(typ)
		e.Props = nil
		if props != "[]" && props != "" {
			if e.Props, err = decodeProps(props); err != nil {
				return nil, fmt.Errorf("read events: event %s: %w", e.ID, err)
			}
		}
		e.Session = slices.Clone(session)
		// SQLite keeps the keys as the int64 of their bits.
		groups.Add(windows[i].Start, uint64(visitorKey), uint64(sessionID), e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return groups.Sorted(), nil
}

// sessionJSON writes a visit's session values as one JSON object by
// dimension name, in the order of the session dimensions.
func sessionJSON(b *bytes.Buffer, session map[string]string) {
	b.Reset()
	b.WriteByte('{')
	for i, name := range store.SessionDimensions[1:] { // the totals have no value
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, name)
		b.WriteByte(':')
		writeJSONString(b, session[name])
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // cannot fail: a string
	b.Write(enc)
}
