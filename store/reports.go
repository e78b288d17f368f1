package store

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrOverBudget says a report query ran out of its time budget (the
// caller's context deadline, which a backend also hands its server as a
// limit) and was stopped: the question should be narrowed, not retried.
var ErrOverBudget = errors.New("report query over its time budget")

// VisitorQuery asks for the distinct visitor keys of one site's raw events
// in [From, To), bots and e-mail events left out: the unique visitors of a
// range that spans several rollup windows, which cannot be summed from the
// windows' counts.
// It reads the raw events, so it answers only within their retention.
type VisitorQuery struct {
	SiteID uint32
	From   time.Time
	To     time.Time
}

// ValueVisitorQuery asks for the distinct visitor keys per value of one
// dimension over [From, To) as one window: visits are sessionised over the
// whole range, as the aggregator would with a single window, and a visitor
// counts under every value one of its visits (session dimensions) or events
// (event dimensions) had. Bots are left out. It reads the raw events, so
// it answers only within their retention.
type ValueVisitorQuery struct {
	SiteID    uint32
	Dimension string // a rollup dimension other than the total
	From      time.Time
	To        time.Time
}

// FilterOps are the filter operators: equal, not equal, contains
// (case-insensitively).
var FilterOps = []string{"==", "!=", "~"}

// MaxFilters caps the filters of one FilteredBreakdownQuery.
const MaxFilters = 10

// Filter is one condition on a visit: Dim (a rollup dimension other than
// the total and the e-mail dimensions) equal to ("=="), not equal to
// ("!=") or containing ("~", case-insensitively) Value.
//
// A visit matches "==" and "~" when its value of a session dimension does,
// or when one of its events' values of an event dimension does. It matches
// "!=" when it does not have the value: its session dimension's value
// differs, or none of its events has the value (a visit without any value
// of event_name or event_target matches).
type Filter struct {
	Dim   string
	Op    string
	Value string
}

// MatchVisitorQuery asks for the distinct visitor keys of [From, To), as
// one window, with a visit whose value of a session dimension matches
// Filter (==, != or ~, as store.Filter's rules say): the unique visitors
// of a one-filter view, which rows per value cannot give for "!=" and
// "~" (a visitor may have visits of several values). Bots and e-mail
// events are left out; raw events only, within their retention.
type MatchVisitorQuery struct {
	SiteID uint32
	Filter Filter
	From   time.Time
	To     time.Time
}

// Validate checks that the filter is on a session dimension with a known
// operator.
func (q MatchVisitorQuery) Validate() error {
	f := q.Filter
	if f.Dim == DimTotal || !KnownDimension(f.Dim) || !SessionDimension(f.Dim) {
		return fmt.Errorf("matching visitors: %q is not a session dimension", f.Dim)
	}
	if !slices.Contains(FilterOps, f.Op) {
		return fmt.Errorf("matching visitors: unknown operator %q", f.Op)
	}
	return nil
}

// FilteredBreakdownQuery asks for the metrics per value of Dimension (the
// totals: DimTotal) over the visits of [From, To) that match every filter.
// The range is one window; with Buckets, each bucket is a window of its
// own, visits are cut at bucket edges as the rollups cut them at window
// edges, and rows carry their bucket's start in WindowStart. Bots are left
// out; raw events only, within their retention. Rows carry Dimension,
// Value, WindowStart and the metrics; a value no matching visit has has no
// row.
type FilteredBreakdownQuery struct {
	SiteID    uint32
	Dimension string
	Filters   []Filter // at least one, at most MaxFilters
	From      time.Time
	To        time.Time
	// Buckets are the bucket starts, ascending, the first equal to From;
	// empty means one window, [From, To).
	Buckets []time.Time
	// Goals are the site's goals, each event's values of DimGoal: the
	// names of those it reached (at most MaxGoals).
	Goals []GoalMatch
	// Funnel is the steps of a funnel, each the name of one of Goals,
	// when DimFunnel is the dimension (MinFunnelSteps to MaxFunnelSteps).
	Funnel []string
	// ExcludeGPC leaves out every visitor key that had Global Privacy
	// Control on in the range, as partner releases must.
	ExcludeGPC bool
	// FromVisits lets a store read only the events of the visitor keys
	// that may have a matching visit: those with, for each filter on a
	// dimension the visit rows keep (VisitDimension), a daily visit row
	// of [From, To) that matches that filter, and those with an event at
	// or after Fresh (the windows the aggregator has not yet seen whole).
	// A visit of the range that matches every filter matches each one in
	// a daily row of its own (its first event's session values, the
	// values its events touched), so the answer is the same; a store may
	// ignore it. The planner sets it only where the daily
	// visit rows answer the range (docs/reports.md, Funnels).
	FromVisits bool
	Fresh      time.Time
}

// EveryFunnelVisit is the filter of a funnel without filters
// (FilteredBreakdownQuery wants at least one): the visits that reached
// step 1, all a funnel counts anyway. A store may read less for it.
var EveryFunnelVisit = Filter{Dim: DimFunnel, Op: "~", Value: ""}

// NarrowingFilters are the indices of the filters of q that FromVisits
// narrows by: those on a dimension the visit rows keep.
func (q FilteredBreakdownQuery) NarrowingFilters() []int {
	if !q.FromVisits {
		return nil
	}
	var out []int
	for i, f := range q.Filters {
		if VisitDimension(f.Dim) {
			out = append(out, i)
		}
	}
	return out
}

// Validate checks the dimensions, operators and buckets.
func (q FilteredBreakdownQuery) Validate() error {
	// E-mail events belong to no visit, so no filter selects any.
	if !rawDimension(q.Dimension) || EmailDimension(q.Dimension) {
		return fmt.Errorf("filtered breakdown: unknown dimension %q", q.Dimension)
	}
	if len(q.Filters) == 0 || len(q.Filters) > MaxFilters {
		return fmt.Errorf("filtered breakdown: want 1 to %d filters, got %d", MaxFilters, len(q.Filters))
	}
	for _, f := range q.Filters {
		if f.Dim == DimTotal || !rawDimension(f.Dim) || EmailDimension(f.Dim) {
			return fmt.Errorf("filtered breakdown: unknown filter dimension %q", f.Dim)
		}
		if !slices.Contains(FilterOps, f.Op) {
			return fmt.Errorf("filtered breakdown: unknown operator %q", f.Op)
		}
	}
	if len(q.Goals) > MaxGoals {
		return fmt.Errorf("filtered breakdown: at most %d goals", MaxGoals)
	}
	if slices.Contains(q.Dims(), DimFunnel) {
		names := make([]string, len(q.Goals))
		for i, g := range q.Goals {
			names[i] = g.Name
		}
		f := Funnel{Name: "query", Steps: q.Funnel}
		if err := errors.Join(f.Validate(), f.CheckSteps(names)); err != nil {
			return fmt.Errorf("filtered breakdown: %w", err)
		}
	}
	if !q.From.Before(q.To) {
		return fmt.Errorf("filtered breakdown: empty range")
	}
	if q.FromVisits && (q.Fresh.Before(q.From) || q.Fresh.After(q.To)) {
		return fmt.Errorf("filtered breakdown: Fresh out of the range")
	}
	for i, b := range q.Buckets {
		if i == 0 && !b.Equal(q.From) || i > 0 && !b.After(q.Buckets[i-1]) || !b.Before(q.To) {
			return fmt.Errorf("filtered breakdown: buckets must rise from From within the range")
		}
	}
	return nil
}

// Windows are the query's windows: its buckets, or the whole range.
func (q FilteredBreakdownQuery) Windows() []Window {
	if len(q.Buckets) == 0 {
		return []Window{{Start: q.From, End: q.To}}
	}
	out := make([]Window, len(q.Buckets))
	for i, b := range q.Buckets {
		end := q.To
		if i+1 < len(q.Buckets) {
			end = q.Buckets[i+1]
		}
		out[i] = Window{Start: b, End: end}
	}
	return out
}

// Dims are the distinct dimensions the query reads: Dimension and those
// the filters name.
func (q FilteredBreakdownQuery) Dims() []string {
	out := []string{q.Dimension}
	for _, f := range q.Filters {
		if !slices.Contains(out, f.Dim) {
			out = append(out, f.Dim)
		}
	}
	return out
}

// rawDimension reports whether the raw events answer dim: a known
// dimension, a custom property or the goals.
func rawDimension(dim string) bool {
	return RawOnlyDimension(dim) || KnownDimension(dim)
}
