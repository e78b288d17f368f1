package report

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/footfall/footfall/store"
)

// usesGoals reports whether q names the goals dimension or is a funnel's.
func usesGoals(q Query) bool {
	if q.Property == store.DimGoal || q.Kind == Funnel {
		return true
	}
	return slices.ContainsFunc(q.Filters, func(f store.Filter) bool { return f.Dim == store.DimGoal })
}

// goalMatches are the site's goals as the stores take them, when q names
// them: every goal filter's value (for == and !=) must be a goal of the
// site, and the paths of wildcard page goals are those the period's
// pageviews have that match.
func (pl *Planner) goalMatches(ctx context.Context, q Query) ([]store.GoalMatch, error) {
	if !usesGoals(q) {
		return nil, nil
	}
	names := make([]string, len(q.Goals))
	for i, g := range q.Goals {
		names[i] = g.Name
	}
	for _, f := range q.Filters {
		if f.Dim == store.DimGoal && f.Op != "~" && !slices.Contains(names, f.Value) {
			if len(names) == 0 {
				return nil, inputErrorf("unknown goal %q: the site has no goals (config: sites[].goals)", f.Value)
			}
			return nil, inputErrorf("unknown goal %q; the site's goals: %s", f.Value, strings.Join(names, ", "))
		}
	}
	var paths []string
	if store.NeedsPaths(q.Goals) {
		counts, err := pl.st.PageviewCounts(ctx, store.CountQuery{SiteID: q.Site.ID, From: q.Span.From, To: q.Span.To, By: store.ByPath})
		if err != nil {
			return nil, err
		}
		for _, c := range counts {
			paths = append(paths, c.Key)
		}
	}
	return store.MatchGoals(q.Goals, paths), nil
}

// conversionRate is the share of visitors in percent, one decimal.
func conversionRate(visitors, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(visitors)/float64(of)*1000) / 10
}

// conversions completes a goals breakdown: every goal the filters allow
// gets a row (zeros when no visit reached it), and with conversion_rate
// each goal's visitors are a share of the visitors of the period under
// the same filters.
func (pl *Planner) conversions(ctx context.Context, q Query, goals []store.GoalMatch, byValue map[string]*sums, values []string) ([]string, error) {
	for _, g := range goals {
		if byValue[g.Name] == nil && matchesAll(q.Filters, store.RollupRow{Dimension: store.DimGoal, Value: g.Name}) {
			byValue[g.Name] = &sums{}
			values = append(values, g.Name)
		}
	}
	if !slices.Contains(q.Metrics, "conversion_rate") {
		return values, nil
	}
	total, err := pl.totals(ctx, q.Site.ID, q.Filters, goals, []time.Time{q.Span.From, q.Span.To}, q.Span.Days, []string{"visitors"})
	if err != nil {
		return nil, err
	}
	of, _ := total[0].value("visitors").(uint64)
	for _, s := range byValue {
		s.of = of
	}
	return values, nil
}

// Revenue is the revenue of a goal in one currency over the report's
// visits: the sum of the amounts of the events that reached the goal with
// revenue in that currency (never summed across currencies), their number
// and the average per such event, rounded half up to the ten-thousandth.
type Revenue struct {
	Currency string
	Total    store.Amount
	Average  store.Amount
	Events   uint64
}

// goalRevenue reads the revenue of each goal per currency over the visits
// that match the filters (the goal rows' own visits): the store's
// DimGoalRevenue rows, by goal and currency.
func (pl *Planner) goalRevenue(ctx context.Context, q Query, goals []store.GoalMatch) (map[string][]Revenue, error) {
	if !slices.ContainsFunc(goals, func(g store.GoalMatch) bool { return g.Event != "" }) {
		return nil, nil // page goals have no revenue
	}
	// Most sites record no revenue: a cheap look first spares them a
	// second raw pass over the period (as long as the goals' own).
	if has, err := pl.st.HasRevenue(ctx, store.VisitorQuery{SiteID: q.Site.ID, From: q.Span.From, To: q.Span.To}); err != nil || !has {
		return nil, err
	}
	rf := q.Filters
	if len(rf) == 0 {
		rf = []store.Filter{{Dim: store.DimGoalRevenue, Op: "~", Value: ""}} // the raw query wants a filter
	}
	rows, err := pl.filtered(ctx, q.Site.ID, store.Daily, store.DimGoalRevenue, rf, goals, q.Span.From, q.Span.To, nil)
	if err != nil {
		return nil, err
	}
	type key struct{ goal, currency string }
	sums := map[key]*Revenue{}
	var keys []key
	for _, r := range rows {
		goal, currency, ok := strings.Cut(r.Value, ";")
		if !ok {
			continue
		}
		k := key{goal, currency}
		if sums[k] == nil {
			sums[k] = &Revenue{Currency: currency}
			keys = append(keys, k)
		}
		sums[k].Total += store.Amount(r.EngagedMS)
		sums[k].Events += r.Events
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.currency, b.currency) })
	out := map[string][]Revenue{}
	for _, k := range keys {
		rev := sums[k]
		if rev.Events > 0 {
			rev.Average = (rev.Total*2 + store.Amount(rev.Events)) / (2 * store.Amount(rev.Events))
		}
		out[k.goal] = append(out[k.goal], *rev)
	}
	return out, nil
}
