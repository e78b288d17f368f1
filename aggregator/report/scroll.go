package report

import (
	"context"
	"math"

	"github.com/footfall/footfall/store"
)

// scrollDepths adds to each page of a pages breakdown (byValue, by path)
// the scroll depths of its page views over the visits that match the
// filters: the store's DimScrollDepth rows, per visit and page the deepest
// depth its engagement events reported. Page views without one (a tracker
// before scroll depth, a view shorter than the engagement beacon's second)
// are left out of the average, not counted as 0.
func (pl *Planner) scrollDepths(ctx context.Context, q Query, goals []store.GoalMatch, byValue map[string]*sums) error {
	rf := q.Filters
	if len(rf) == 0 {
		rf = []store.Filter{{Dim: store.DimScrollDepth, Op: "~", Value: ""}} // the raw query wants a filter
	}
	rows, err := pl.filtered(ctx, q.Site.ID, store.Daily, store.DimScrollDepth, rf, goals, q.Span.From, q.Span.To, nil)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if s := byValue[r.Value]; s != nil {
			s.scrollSum += r.EngagedMS
			s.scrolled += r.Events
		}
	}
	return nil
}

// scrollDepth is the average scroll depth in percent, to one decimal, or
// nil (JSON null, an empty CSV cell) without any page view that has one.
func scrollDepth(sum, n uint64) any {
	if n == 0 {
		return nil
	}
	return math.Round(float64(sum)/float64(n)*10) / 10
}
