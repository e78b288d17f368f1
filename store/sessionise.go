package store

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// VisitEvent is one raw event as the aggregator cuts visits from it.
type VisitEvent struct {
	ID        string
	Time      int64 // Unix seconds
	Type      EventType
	Path      string
	Name      string
	Target    string
	Props     []Prop
	EngagedMS uint64
	// Session holds the event's values of SessionColumns, in that order.
	Session []string
}

// SessionColumns are the events columns the session dimensions but the
// totals read, each once, in the order of Dimensions: the order of the
// stores' SQL lists ([[.Columns]], ExpandDimensions).
var SessionColumns = sqlDimensions.Columns

// VisitGroup is the events of one visitor key and session id in one
// window of a rollup job: one visit with a session id, else as many as
// SessionTimeout's gaps make.
type VisitGroup struct {
	SiteID      uint32
	Granularity Granularity
	WindowStart time.Time
	VisitorKey  uint64
	SessionID   uint64
	Partial     bool
	Events      []VisitEvent
}

// typeOrder ranks event types within one second, pageview first: with the
// time it orders a visit's events (k in the stores' SQL), so a visit's
// first and last events are the same on every backend.
func typeOrder(t EventType) int64 {
	switch t {
	case Pageview:
		return 1
	case Click:
		return 2
	case Custom:
		return 3
	}
	return 4
}

// CutVisit is a visit row as the aggregator writes it: with its Number,
// which tells apart the visits of one visitor key without a session id in
// one window (1, 2, … in order; 0 for a session id's visit) and which the
// stores keep but no reader needs.
type CutVisit struct {
	Visit
	Number uint32
}

// CutVisits returns the visit rows of g by the aggregator's rules (the
// ones the stores' row fragments state in SQL for the reports): the events
// ordered by time, type and id, a replay (an id seen before) dropped, one
// visit for a session id, else a new visit after SessionTimeout without
// events; a visit described by its first event, exit page by its last;
// its values those of TouchedDimensions. g.Events is reordered.
func CutVisits(g VisitGroup) []CutVisit {
	evs := g.Events
	slices.SortFunc(evs, func(a, b VisitEvent) int {
		return cmp.Or(cmp.Compare(a.Time*8+typeOrder(a.Type), b.Time*8+typeOrder(b.Type)), cmp.Compare(a.ID, b.ID))
	})
	evs = slices.CompactFunc(evs, func(a, b VisitEvent) bool { return a.ID == b.ID })
	var out []CutVisit
	if g.SessionID != 0 {
		return append(out, CutVisit{g.visit(evs), 0})
	}
	gap := int64(SessionTimeout / time.Second)
	start := 0
	for i := 1; i <= len(evs); i++ {
		if i == len(evs) || evs[i].Time-evs[i-1].Time > gap {
			out = append(out, CutVisit{g.visit(evs[start:i]), uint32(len(out) + 1)})
			start = i
		}
	}
	return out
}

// sessionColumn is where each session dimension but the totals finds its
// value in VisitEvent.Session.
var sessionColumn = func() map[string]int {
	m := map[string]int{}
	for _, d := range sqlDimensions.Session {
		m[d.Name] = slices.Index(SessionColumns, d.Column)
	}
	return m
}()

func (g VisitGroup) visit(evs []VisitEvent) Visit {
	first, last := evs[0], evs[len(evs)-1]
	v := Visit{
		SiteID: g.SiteID, Granularity: g.Granularity, WindowStart: g.WindowStart,
		VisitorKey: g.VisitorKey, SessionID: g.SessionID, Partial: g.Partial,
		Start:       time.Unix(first.Time, 0).UTC(),
		DurationSec: uint64(last.Time - first.Time),
		Session:     make(map[string]string, len(sqlDimensions.Session)),
	}
	for _, d := range sqlDimensions.Session {
		e := first
		if d.Last {
			e = last
		}
		v.Session[d.Name] = e.Session[sessionColumn[d.Name]]
	}
	type key struct{ dim, value string }
	index := map[key]int{}
	touch := func(dim, value string, e VisitEvent) {
		i, ok := index[key{dim, value}]
		if !ok {
			i = len(v.Values)
			index[key{dim, value}] = i
			v.Values = append(v.Values, VisitValue{Dimension: dim, Value: value})
		}
		switch e.Type {
		case Pageview:
			v.Values[i].Pageviews++
		case Click, Custom:
			v.Values[i].Events++
		}
		v.Values[i].EngagedMS += e.EngagedMS
	}
	for _, e := range evs {
		switch e.Type {
		case Pageview:
			v.Pageviews++
		case Click, Custom:
			v.Events++
		}
		v.EngagedMS += e.EngagedMS
		touch(DimPage, e.Path, e)
		if e.Name != "" {
			touch(DimEventName, e.Name, e)
		}
		if e.Target != "" {
			touch(DimEventTarget, e.Target, e)
		}
		for _, p := range e.Props {
			if p.Value != "" {
				touch(DimProps, p.Key, e)
				touch(PropPrefix+p.Key, p.Value, e)
			}
		}
	}
	v.Bounce = v.Pageviews == 1 && v.Events == 0
	slices.SortFunc(v.Values, func(a, b VisitValue) int {
		return cmp.Or(cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
	})
	return v
}

// VisitGroups gathers a rollup job's events into VisitGroups.
type VisitGroups struct {
	spec   RollupSpec
	groups map[visitGroupKey]*VisitGroup
}

type visitGroupKey struct {
	window                int64
	visitorKey, sessionID uint64
}

// NewVisitGroups starts gathering the events of spec's windows.
func NewVisitGroups(spec RollupSpec) *VisitGroups {
	return &VisitGroups{spec: spec, groups: map[visitGroupKey]*VisitGroup{}}
}

// Add puts e in the group of its window (by start), visitor key and
// session id.
func (gs *VisitGroups) Add(window time.Time, visitorKey, sessionID uint64, e VisitEvent) {
	k := visitGroupKey{window.Unix(), visitorKey, sessionID}
	g := gs.groups[k]
	if g == nil {
		g = &VisitGroup{SiteID: gs.spec.SiteID, Granularity: gs.spec.Granularity, WindowStart: window.UTC(),
			VisitorKey: visitorKey, SessionID: sessionID, Partial: gs.spec.Partial}
		gs.groups[k] = g
	}
	g.Events = append(g.Events, e)
}

// Sorted returns the groups in order of window, visitor key and session
// id: a visitor key's visits of one window come one after the other.
func (gs *VisitGroups) Sorted() []VisitGroup {
	keys := slices.SortedFunc(maps.Keys(gs.groups), func(a, b visitGroupKey) int {
		return cmp.Or(cmp.Compare(a.window, b.window), cmp.Compare(a.visitorKey, b.visitorKey), cmp.Compare(a.sessionID, b.sessionID))
	})
	out := make([]VisitGroup, len(keys))
	for i, k := range keys {
		out[i] = *gs.groups[k]
	}
	return out
}

// RollupCells sums visit rows into the rollup rows they make, per window,
// dimension and value: the totals, the visit's value of each session
// dimension the rollups have, and each value it touched of the event
// dimensions they have (with that value's pageviews, events and engaged
// time; bounces and duration are the visit's, so kept for the others
// only). Visits must come in order of window and visitor key (CutVisits
// over VisitGroups.Sorted): a visitor's visits to a cell are then
// consecutive, and counting its distinct visitors needs only the last key.
type RollupCells struct {
	cells map[rollupCellKey]*rollupCell
}

type rollupCell struct {
	RollupRow
	last uint64 // the last visitor key counted
}

type rollupCellKey struct {
	window     int64
	dim, value string
}

// rollupDimension says which dimensions the rollups have.
var rollupDimension = func() map[string]bool {
	m := map[string]bool{}
	for _, d := range RollupDimensions {
		m[d] = true
	}
	return m
}()

// NewRollupCells starts summing.
func NewRollupCells() *RollupCells {
	return &RollupCells{cells: map[rollupCellKey]*rollupCell{}}
}

// Add counts v in its cells.
func (cs *RollupCells) Add(v Visit) {
	whole := RollupRow{Pageviews: v.Pageviews, Events: v.Events, DurationSec: v.DurationSec, EngagedMS: v.EngagedMS}
	if v.Bounce {
		whole.Bounces = 1
	}
	cs.add(v, DimTotal, "", whole)
	for _, d := range sqlDimensions.Session {
		if d.Rollup {
			cs.add(v, d.Name, v.Session[d.Name], whole)
		}
	}
	for _, x := range v.Values {
		if rollupDimension[x.Dimension] {
			cs.add(v, x.Dimension, x.Value, RollupRow{Pageviews: x.Pageviews, Events: x.Events, EngagedMS: x.EngagedMS})
		}
	}
}

func (cs *RollupCells) add(v Visit, dim, value string, m RollupRow) {
	k := rollupCellKey{v.WindowStart.Unix(), dim, value}
	c := cs.cells[k]
	if c == nil {
		c = &rollupCell{RollupRow: RollupRow{SiteID: v.SiteID, Granularity: v.Granularity, WindowStart: v.WindowStart,
			Dimension: dim, Value: value, Partial: v.Partial, Visitors: 1}, last: v.VisitorKey}
		cs.cells[k] = c
	} else if c.last != v.VisitorKey {
		c.Visitors++
		c.last = v.VisitorKey
	}
	c.Visits++
	c.Pageviews += m.Pageviews
	c.Events += m.Events
	c.Bounces += m.Bounces
	c.DurationSec += m.DurationSec
	c.EngagedMS += m.EngagedMS
}

// Rows returns the summed rows, by window, dimension and value.
func (cs *RollupCells) Rows() []RollupRow {
	out := make([]RollupRow, 0, len(cs.cells))
	for _, c := range cs.cells {
		out = append(out, c.RollupRow)
	}
	slices.SortFunc(out, func(a, b RollupRow) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
	})
	return out
}
