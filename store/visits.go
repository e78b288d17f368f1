package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Visit is one visit row: what the aggregator keeps of one visit within
// one window, written by ReplaceRollups together with the window's rollups
// and by the same rules (a visit by session id, else by SessionTimeout of
// inactivity per visitor key, cut at window edges; bots and e-mail events
// in no visit). Filtered reports read visit rows rather than
// re-sessionising the raw events, and they outlive the raw events'
// retention.
type Visit struct {
	SiteID      uint32
	Granularity Granularity
	WindowStart time.Time
	VisitorKey  uint64
	SessionID   uint64
	Start       time.Time // the visit's first event within the window
	Pageviews   uint64
	Events      uint64 // clicks and custom events
	Bounce      bool   // one pageview and no other events
	DurationSec uint64 // last minus first event time
	EngagedMS   uint64
	// Session holds the visit's value of every session dimension but the
	// totals (store.SessionDimensions), by name.
	Session map[string]string
	// Values are the event-dimension values the visit's events had (page,
	// event_name, event_target; names and targets only when set; the
	// custom properties as DimProps with each key and props:KEY with its
	// value, only when the value is set), each once, with the pageviews,
	// events and engaged time of those events; sorted by dimension and
	// value.
	Values  []VisitValue
	Partial bool
}

// TouchedDimensions are the event dimensions whose values a visit row
// keeps (Visit.Values): those with an events column, and the custom
// properties: DimProps, and PropPrefix alone for every key's values
// (props:KEY), as the stores' row fragments read it.
var TouchedDimensions = append(dimensionNames(func(d DimSpec) bool { return !d.Session && d.Column != "" }), DimProps, PropPrefix)

// TouchedVersion is what the touched values of a visit row written now
// hold: 0 (rows written before migration 042) pages, event names and
// targets; 1 the custom properties too. A report on a custom property
// reads the visit rows of a range only where every window's rows are of
// this version (MissingWindows.Values), else the raw events.
const TouchedVersion = 1

// MissingWindows says what a range of windows that have rollups lacks,
// as the stores' WindowsMissing reports it.
type MissingWindows struct {
	// Visits: a window has no visit rows (aggregated before they were
	// kept, or retention has deleted them).
	Visits bool
	// Sketches: a window has no visitor sketch (aggregated before
	// sketches were kept).
	Sketches bool
	// Values: a window has no visit rows whose touched values are of
	// TouchedVersion (none, or written before they kept custom properties).
	Values bool
}

// VisitDimension reports whether the visit rows answer dim: a known
// dimension or a custom property (not the broken URLs, a goal's revenue
// or a funnel, which only the raw events answer; the goals only with
// VisitQuery.Goals, VisitGoals).
func VisitDimension(dim string) bool {
	_, prop := PropDimension(dim)
	return prop || KnownDimension(dim)
}

// VisitValue is one event-dimension value a visit touched.
type VisitValue struct {
	Dimension string
	Value     string
	Pageviews uint64
	Events    uint64
	EngagedMS uint64
}

// SortVisits orders visit rows by window, visitor key, session id and
// start, and each visit's values by dimension and value: the order the
// stores return them in.
func SortVisits(vs []Visit) {
	for i := range vs {
		slices.SortFunc(vs[i].Values, func(a, b VisitValue) int {
			return cmp.Or(cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
		})
	}
	slices.SortFunc(vs, func(a, b Visit) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), cmp.Compare(a.VisitorKey, b.VisitorKey),
			cmp.Compare(a.SessionID, b.SessionID), a.Start.Compare(b.Start))
	})
}

// VisitorKeys are the distinct visitor keys of events, ascending; 0 (no
// key, as e-mail events have) is left out.
func VisitorKeys(events []Event) []uint64 {
	keys := make([]uint64, 0, len(events))
	for _, e := range events {
		if e.VisitorKey != 0 {
			keys = append(keys, e.VisitorKey)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// VisitQuery asks for the metrics per value of Dimension (the totals:
// DimTotal) over the visit rows of one site and granularity whose window
// starts in [From, To) and that match every filter (none to MaxFilters;
// store.Filter's rules). With Buckets, rows are summed per bucket (a
// window belongs to the last bucket starting at or before it) and carry
// the bucket's start in WindowStart; without, per the whole range (From).
// Visitors are distinct visitor keys per bucket and value, exact over any
// number of windows; visits, pageviews and the rest are sums over visit
// rows, so a visit across a window edge counts once per window, as summed
// rollups count it. Rows of an event dimension count the events that had
// the value (bounces and duration are zero), as the rollups do.
type VisitQuery struct {
	SiteID      uint32
	Granularity Granularity
	Dimension   string
	Filters     []Filter
	From        time.Time
	To          time.Time
	Buckets     []time.Time
	// Sample, over 1, reads the visit rows of about one visitor key in
	// Sample (ClickHouse SAMPLE 1/Sample by intHash32(visitor_key): a
	// visitor is kept or dropped whole, the same in every window) and
	// returns the sample's counts as they are; the caller scales them.
	// 0 or 1 reads every row. Only stores that implement
	// report.Sampler sample; SQLite refuses a Sample over 1.
	Sample uint32
	// Goals are the site's goals, for DimGoal as the dimension or a
	// filter's: a visit row reached a page goal when it touched one of
	// its paths with a pageview, an event goal when it touched its name
	// with a click or custom event, and counts the pageviews or events of
	// those (no engaged time). Only goals without props (VisitGoals): a
	// visit row keeps an event's name and its props apart, not which
	// props which event had.
	Goals []GoalMatch
}

// VisitGoals reports whether the visit rows answer the goals: none has
// props.
func VisitGoals(goals []GoalMatch) bool {
	return !slices.ContainsFunc(goals, func(g GoalMatch) bool { return len(g.Props) > 0 })
}

// UsesGoals reports whether the query names DimGoal.
func (q VisitQuery) UsesGoals() bool {
	return q.Dimension == DimGoal || slices.ContainsFunc(q.Filters, func(f Filter) bool { return f.Dim == DimGoal })
}

// Validate checks the dimensions, operators and buckets.
func (q VisitQuery) Validate() error {
	if !q.Granularity.Valid() {
		return fmt.Errorf("visit query: unknown granularity %q", q.Granularity)
	}
	fq := FilteredBreakdownQuery{SiteID: q.SiteID, Dimension: q.Dimension, Filters: q.Filters, From: q.From, To: q.To, Buckets: q.Buckets, Goals: q.Goals}
	if len(fq.Filters) == 0 {
		// FilteredBreakdownQuery wants a filter; visit queries need none.
		fq.Filters = []Filter{{Dim: DimPage, Op: "!=", Value: ""}}
	}
	if err := fq.Validate(); err != nil {
		return fmt.Errorf("visit query: %w", err)
	}
	for _, d := range fq.Dims() {
		if !VisitDimension(d) && (d != DimGoal || !VisitGoals(q.Goals)) {
			return fmt.Errorf("visit query: visit rows keep no %s", d)
		}
	}
	return nil
}

// DimensionKind says what Dimension is, as the stores' visit queries take
// it: 0 the totals, 1 a session dimension (a visit's one value, with the
// visit's metrics), 2 an event dimension (each value the visit touched,
// with the metrics of its events).
func (q VisitQuery) DimensionKind() int {
	switch {
	case q.Dimension == DimTotal:
		return 0
	case SessionDimension(q.Dimension):
		return 1
	}
	return 2
}

// BucketStarts are the query's bucket starts: Buckets, or From alone.
func (q VisitQuery) BucketStarts() []time.Time {
	if len(q.Buckets) == 0 {
		return []time.Time{q.From}
	}
	return q.Buckets
}
