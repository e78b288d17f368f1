package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/store"
)

// FunnelMetrics are a funnel step's figures, in the order of a funnel
// result's row values: the visitors and visits that reached the step in
// order, the visitors lost since the previous step (and in % of its
// visitors), and the step's visitors in % of the first step's.
var FunnelMetrics = []string{"visitors", "visits", "dropoff", "dropoff_rate", "conversion_rate"}

// funnel answers a funnel report: one row per step, keyed by its goal, in
// order. The visits are those of the period that match the filters, read
// from the raw events (one window: the period) as goals are.
func (pl *Planner) funnel(ctx context.Context, q Query, goals []store.GoalMatch) (*Result, error) {
	i := slices.IndexFunc(q.Funnels, func(f store.Funnel) bool { return f.Name == q.Funnel })
	if i < 0 {
		names := make([]string, len(q.Funnels))
		for j, f := range q.Funnels {
			names[j] = f.Name
		}
		if len(names) == 0 {
			return nil, inputErrorf("unknown funnel %q: the site has no funnels (config: sites[].funnels)", q.Funnel)
		}
		return nil, inputErrorf("unknown funnel %q; the site's funnels: %s", q.Funnel, strings.Join(names, ", "))
	}
	steps := q.Funnels[i].Steps
	names := make([]string, len(goals))
	for j, g := range goals {
		names[j] = g.Name
	}
	var err error
	if err = q.Funnels[i].CheckSteps(names); err != nil {
		// A goal removed from the config file or the admin API.
		return nil, inputErrorf("%v (config: sites[].goals, or /api/v1/admin/goals)", err)
	}
	filters := q.Filters
	if len(filters) == 0 {
		// Every visit that reached step 1, as the raw query wants a filter.
		filters = []store.Filter{store.EveryFunnelVisit}
	}
	fq := store.FilteredBreakdownQuery{
		SiteID: q.Site.ID, Dimension: store.DimFunnel, Filters: filters, From: q.Span.From, To: q.Span.To,
		Goals: goals, Funnel: steps,
	}
	if fq.FromVisits, fq.Fresh, err = pl.narrowing(ctx, fq, q.Span.Loc); err != nil {
		return nil, err
	}
	rows, err := pl.st.FilteredBreakdown(ctx, fq)
	if err != nil {
		return nil, err
	}
	reached := make([]store.RollupRow, len(steps))
	for _, r := range rows {
		n, err := strconv.Atoi(r.Value)
		if err != nil || n < 1 || n > len(steps) {
			return nil, fmt.Errorf("funnel %q: the store answered step %q", q.Funnel, r.Value)
		}
		reached[n-1] = r
	}
	now := pl.now()
	res := &Result{Query: q, Total: len(steps)}
	for j, s := range steps {
		v := reached[j].Visitors
		var drop uint64
		dropRate := 0.0
		if j > 0 {
			prev := reached[j-1].Visitors
			drop = prev - min(v, prev)
			dropRate = conversionRate(drop, prev)
		}
		res.Rows = append(res.Rows, Row{Key: s, Partial: !now.Before(q.Span.From) && now.Before(q.Span.To),
			Values: []any{v, reached[j].Visits, drop, dropRate, conversionRate(v, reached[0].Visitors)}})
	}
	return res, nil
}

// narrowing says whether a raw read of fq may read only the events of
// the visitors its filters allow by their daily visit rows
// (store.FilteredBreakdownQuery.FromVisits), and from when it must read
// every visitor's events: the start of the first day (in loc) of the
// range that has no complete rollups, which the aggregator has not seen
// whole (visit rows are written with the rollups; a day still partial,
// or not yet aggregated). It may where a filter is on a dimension the
// visit rows keep, the range's daily visit rows answer it (visitRows)
// and its first day is complete.
func (pl *Planner) narrowing(ctx context.Context, fq store.FilteredBreakdownQuery, loc *time.Location) (bool, time.Time, error) {
	fq.FromVisits = true
	if len(fq.NarrowingFilters()) == 0 {
		return false, time.Time{}, nil
	}
	ok, err := pl.visitRows(ctx, fq.SiteID, store.Daily, fq.From, fq.To, props(fq.Filters))
	if err != nil || !ok {
		return false, time.Time{}, err
	}
	rows, err := pl.rollups(ctx, fq.SiteID, store.Daily, fq.From, fq.To)
	if err != nil {
		return false, time.Time{}, err
	}
	complete := map[int64]bool{}
	for _, r := range rows {
		if r.Dimension == store.DimTotal && !r.Partial {
			complete[r.WindowStart.Unix()] = true
		}
	}
	fresh := fq.To
	for _, w := range store.Windows(store.Daily, loc, fq.From, fq.To) {
		if !complete[w.Start.Unix()] {
			fresh = w.Start
			break
		}
	}
	return fresh.After(fq.From), fresh, nil
}
