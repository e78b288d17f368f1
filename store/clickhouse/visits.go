package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

var (
	qVisitsSelect            = mustQuery("visits_select")
	qRollupsRawEvents        = mustQuery("rollups_raw_events")
	qVisitsBreakdownTemplate = mustQuery("visits_breakdown")
	qVisitsGoals             = mustQuery("visits_goals")
	qVisitsBreakdown         = visitsBreakdownQueries()
)

// visitsBreakdownQueries are visits_breakdown with 0 to store.MaxFilters
// filter conditions (visits_filter.sql for the first, second … filter),
// reading every row ([0]) or a sample ([1], SAMPLE 1/@sample): a query
// tests only the filters it is given. With goals, goalsBreakdownQuery
// builds the query.
func visitsBreakdownQueries() [2][]string {
	var out [2][]string
	for sampled := range out {
		out[sampled] = make([]string, store.MaxFilters+1)
		for n := range out[sampled] {
			out[sampled][n] = visitsQuery(sampled == 1, "visits {{sample}}", filterConds(n, nil), "")
		}
	}
	return out
}

// filterConds are visits_filter.sql's conditions of the first n filters
// whose number keep takes (nil: all of them).
func filterConds(n int, keep func(i int) bool) string {
	var conds []string
	for i := range n {
		if keep == nil || keep(i) {
			conds = append(conds, strings.ReplaceAll(qVisitsFilter, "N)", strconv.Itoa(i+1)+")"))
		}
	}
	return strings.Join(conds, "\n      ")
}

// visitsQuery is visits_breakdown.sql reading source (the visits table, or
// visits_goals.sql with its filters on other dimensions than the goals,
// inner) with the filter conditions outer.
func visitsQuery(sampled bool, source, outer, inner string) string {
	clause := ""
	if sampled {
		clause = "SAMPLE 1/@sample"
	}
	source = strings.Replace(strings.Replace(source, "{{sample}}", clause, 1), "{{inner_filters}}", inner, 1)
	return strings.Replace(strings.Replace(qVisitsBreakdownTemplate, "{{filters}}", outer, 1), "{{visits}}", source, 1)
}

// goalsBreakdownQuery is visits_breakdown.sql over visits_goals.sql for
// q: the conditions of its goal filters after the goals are reckoned, the
// others before, on the visit rows themselves.
func goalsBreakdownQuery(q store.VisitQuery) string {
	goal := func(i int) bool { return q.Filters[i].Dim == store.DimGoal }
	other := func(i int) bool { return !goal(i) }
	return visitsQuery(q.Sample > 1, qVisitsGoals, filterConds(len(q.Filters), goal), filterConds(len(q.Filters), other))
}

// goalKeyArgs are visits_goals.sql's goal keys (@gkey, @gkpage, @gkstart,
// @gklen) of goals, in the order of goalArgs' @gnames: the blank goal
// first, then each goal's touched values "page|PATH" of its paths or
// "event_name|NAME" of its event; a goal without any has the key "|",
// which matches nothing.
func goalKeyArgs(goals []store.GoalMatch) []any {
	keys, page, start, n := []string{"|"}, []int{0}, []int{1}, []int{1}
	for _, g := range goals {
		start = append(start, len(keys)+1)
		var ks []string
		isPage := 0
		if g.Event == "" {
			isPage = 1
			for _, p := range g.Paths {
				ks = append(ks, store.DimPage+"|"+p)
			}
		} else {
			ks = append(ks, store.DimEventName+"|"+g.Event)
		}
		if len(ks) == 0 {
			ks = []string{"|"}
		}
		for _, k := range ks {
			keys, page = append(keys, k), append(page, isPage)
		}
		n = append(n, len(ks))
	}
	return []any{ch.Named("gkey", keys), ch.Named("gkpage", page), ch.Named("gkstart", start), ch.Named("gklen", n)}
}

// Visits returns the visit rows of q, by window, visitor key, session id
// and start.
func (s *Store) Visits(ctx context.Context, q store.RollupQuery) ([]store.Visit, error) {
	rows, err := s.conn.Query(budgeted(ctx, nil), qVisitsSelect, windowArgs(q.SiteID, q.Granularity, "", q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read visits: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.Visit
	for rows.Next() {
		var (
			v                             store.Visit
			bounce, partial               uint8
			sdims, svals, tdims, tvals    []string
			tpageviews, tevents, tengaged []uint64
		)
		if err := rows.Scan(&v.WindowStart, &v.VisitorKey, &v.SessionID, &v.Start, &v.Pageviews, &v.Events, &bounce,
			&v.DurationSec, &v.EngagedMS, &sdims, &svals, &tdims, &tvals, &tpageviews, &tevents, &tengaged, &partial); err != nil {
			return nil, fmt.Errorf("read visits: %w", budgetErr(ctx, err))
		}
		v.SiteID, v.Granularity = q.SiteID, q.Granularity
		v.WindowStart, v.Start = v.WindowStart.UTC(), v.Start.UTC()
		v.Bounce, v.Partial = bounce == 1, partial == 1
		v.Session = make(map[string]string, len(sdims))
		for i, d := range sdims {
			v.Session[d] = svals[i]
		}
		for i, d := range tdims {
			v.Values = append(v.Values, store.VisitValue{Dimension: d, Value: tvals[i],
				Pageviews: tpageviews[i], Events: tevents[i], EngagedMS: tengaged[i]})
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read visits: %w", budgetErr(ctx, err))
	}
	store.SortVisits(out)
	return out, nil
}

// VisitBreakdown answers a VisitQuery from the visit rows in one query.
func (s *Store) VisitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	// The filter arrays are padded to MaxFilters so they are never empty
	// (an empty literal has no element type) and every slot of the query
	// indexes within them.
	fdims, fops, fvals := make([]string, store.MaxFilters), make([]string, store.MaxFilters), make([]string, store.MaxFilters)
	for i, f := range q.Filters {
		fdims[i], fops[i], fvals[i] = f.Dim, f.Op, f.Value
	}
	starts := q.BucketStarts()
	buckets := make([]uint32, len(starts))
	for i, b := range starts {
		buckets[i] = uint32(b.Unix())
	}
	args := append(windowArgs(q.SiteID, q.Granularity, "", q.From, q.To),
		ch.Named("fdims", fdims), ch.Named("fops", fops), ch.Named("fvals", fvals), ch.Named("bdim", q.Dimension), ch.Named("bkind", q.DimensionKind()), ch.Named("buckets", buckets))
	sampled := 0
	if q.Sample > 1 {
		sampled = 1
		args = append(args, ch.Named("sample", q.Sample))
	}
	query := qVisitsBreakdown[sampled][len(q.Filters)]
	if q.UsesGoals() {
		query = goalsBreakdownQuery(q)
		args = append(append(args, goalArgs(q.Goals, "g")...), goalKeyArgs(q.Goals)...)
	}
	out, err := s.breakdownRows(ctx, q.SiteID, q.Dimension, query, args)
	if err != nil {
		return nil, fmt.Errorf("visit breakdown: %w", err)
	}
	return out, nil
}

// RawEvents is the pageviews and events that the totals rows of q's
// rollups count: what a report of q's period would read from the raw
// events, which the planner compares with its sampling threshold
// (report.Sampler).
func (s *Store) RawEvents(ctx context.Context, q store.RollupQuery) (uint64, error) {
	var n uint64
	if err := s.conn.QueryRow(budgeted(ctx, nil), qRollupsRawEvents, windowArgs(q.SiteID, q.Granularity, "", q.From, q.To)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("raw events of the rollups: %w", budgetErr(ctx, err))
	}
	return n, nil
}

// WindowsMissing says what the windows of q that have rollups lack
// (store.MissingWindows), in one query.
func (s *Store) WindowsMissing(ctx context.Context, q store.RollupQuery) (store.MissingWindows, error) {
	var nv, ns, nt uint64
	args := append(windowArgs(q.SiteID, q.Granularity, "", q.From, q.To), ch.Named("touched_version", store.TouchedVersion))
	if err := s.conn.QueryRow(budgeted(ctx, nil), qWindowsMissing, args...).Scan(&nv, &ns, &nt); err != nil {
		return store.MissingWindows{}, fmt.Errorf("windows without visits: %w", budgetErr(ctx, err))
	}
	return store.MissingWindows{Visits: nv > 0, Sketches: ns > 0, Values: nt > 0}, nil
}
