package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

var (
	qReportsHasRevenue       = mustQuery("reports_has_revenue")
	qReportsVisitors         = mustQuery("reports_visitors")
	qReportsVisitorsSessions = rollupQuery("reports_visitors_sessions")
	qReportsVisitorsEvents   = mustQuery("reports_visitors_events")
	qReportsVisitorsMatching = rollupQuery("reports_visitors_matching")
	qReportsNarrow           = mustQuery("reports_narrow")
	qReportsNarrowFilter     = mustQuery("reports_narrow_filter")
	qVisitsFilter            = mustQuery("visits_filter")
	// qReportsFiltered are reports_filtered_breakdown's variants by the
	// row kinds they read (rowKinds).
	qReportsFiltered = func() map[rowKinds]string {
		m := map[rowKinds]string{}
		for i := 1; i < 16; i++ {
			k := rowKinds{sessions: i&1 != 0, events: i&2 != 0, scroll: i&8 != 0}
			if i&4 == 0 {
				m[k] = filteredQuery(k)
				continue
			}
			for n := store.MinFunnelSteps; n <= store.MaxFunnelSteps; n++ {
				k.funnel = n
				m[k] = filteredQuery(k)
			}
		}
		return m
	}()
)

// rowKinds are the kinds of rows a filtered breakdown reads: session rows,
// event rows, funnel rows of a funnel of that many steps, scroll rows
// (store.DimScrollDepth). Each kind re-reads and re-sessionises the
// events, so a query reads only those its dimensions need.
type rowKinds struct {
	sessions, events, scroll bool
	funnel                   int
}

// funnelRows is reports_filtered_rows_funnel.sql for a funnel of n steps:
// its placeholders expanded with n step expressions (the step numbers are
// constants, never input).
func funnelRows(n int) string {
	return funnelSteps(n).Replace(mustQuery("reports_filtered_rows_funnel"))
}

// funnelSteps replaces the step placeholders of reports_filtered_rows_funnel
// and reports_funnel with n step expressions.
func funnelSteps(n int) *strings.Replacer {
	step, stepTime := mustQuery("reports_funnel_step"), mustQuery("reports_funnel_step_time")
	var masks, times, reached []string
	for j := 1; j <= n; j++ {
		// Index j+1: funnelArgs' arrays start with a blank step.
		masks = append(masks, fmt.Sprintf("bitShiftLeft(toUInt64(%s), %d)", strings.ReplaceAll(step, "[J]", fmt.Sprintf("[%d]", j+1)), j-1))
		t := strings.NewReplacer("tJ", fmt.Sprintf("t%d", j), "tP", fmt.Sprintf("t%d", j-1), "BIT", fmt.Sprint(1<<(j-1))).Replace(stepTime)
		times = append(times, t+",")
		reached = append(reached, fmt.Sprintf("(t%d > 0)", j))
	}
	return strings.NewReplacer("{{STEP_MASK}}", strings.Join(masks, "\n + "), "{{STEP_TIMES}}", strings.Join(times, "\n"),
		"{{STEP_REACHED}}", "toUInt64("+strings.Join(reached, " + ")+")")
}

// qReportsFunnel is reports_funnel.sql per number of steps, its step
// placeholders expanded; the filters' are left for funnelQuery.
var qReportsFunnel = func() map[int]string {
	m := map[int]string{}
	for n := store.MinFunnelSteps; n <= store.MaxFunnelSteps; n++ {
		m[n] = funnelSteps(n).Replace(rollupQuery("reports_funnel"))
	}
	return m
}()

// funnelEventMatch is, per event dimension, whether an event of the events
// fragment has a value of it that MATCH(…) accepts (MATCH(x) stands for
// reports_funnel_match.sql over x): the values the event rows fragment
// (rollup_frag_event_rows.sql) gives it, where only page may be empty.
// A custom property's key (props:KEY) is in the filter's dimension
// (FILTER_N: the filter's number).
var funnelEventMatch = map[string]string{
	store.DimPage:        "MATCH(path)",
	store.DimEventName:   "(name != '' AND MATCH(name))",
	store.DimEventTarget: "(target != '' AND MATCH(target))",
	store.DimNotFound:    "(name = '404' AND etype IN ('click', 'event') AND path != '' AND MATCH(path))",
	store.DimProps:       "arrayExists((x, y) -> y != '' AND MATCH(x), prop_keys, prop_values)",
	store.PropPrefix:     "arrayExists((x, y) -> concat('props:', x) = arrayElement(@fdims, FILTER_N) AND y != '' AND MATCH(y), prop_keys, prop_values)",
	store.DimGoal:        "arrayExists(g -> @gnames[g] != '' AND MATCH(@gnames[g]), {{goal_hits}})",
	store.DimGoalRevenue: "arrayExists((g, c) -> c != '' AND MATCH(concat(@gnames[g], ';', c)), {{goal_hits}}, " +
		"arrayResize([revenue_currency], length({{goal_hits}}), revenue_currency))",
}

// funnelQuery is reports_funnel.sql for q (store.DimFunnel): its step
// placeholders and one test per filter, each the filter's number (FILTER_N) into
// @fdims, @fops and @fvals and an expression chosen by the filter's
// dimension (the dimension's events column, from store.Dimensions, or
// funnelEventMatch), never its value, which is a parameter.
func funnelQuery(q store.FilteredBreakdownQuery) (string, error) {
	match := mustQuery("reports_funnel_match")
	var matches, hits, pass, funnelPass strings.Builder
	for i, f := range q.Filters {
		n := strconv.Itoa(i + 1)
		matchOf := func(expr string) string {
			return matchCall.ReplaceAllStringFunc(expr, func(call string) string {
				v := matchCall.FindStringSubmatch(call)[1]
				return "(" + strings.ReplaceAll(match, "VALUE", v) + ")"
			})
		}
		not := "(arrayElement(@fops, " + n + ") = '!=') != "
		if f.Dim == store.DimFunnel {
			// The steps the visit reached, '1', '2', …
			fmt.Fprintf(&funnelPass, "\n  AND %s%s", not, strings.ReplaceAll(matchOf("arrayExists(x -> MATCH(toString(x + 1)), range(reached))"), "FILTER_N", n))
			continue
		}
		agg := "max"
		expr, ok := funnelEventMatch[f.Dim]
		if _, prop := store.PropDimension(f.Dim); prop && f.Dim != store.DimProps {
			expr, ok = funnelEventMatch[store.PropPrefix], true
		}
		if d, known := store.DimensionByName(f.Dim); known && d.Session && d.Column != "" {
			// A session dimension: the visit's first event's value (the
			// exit page: its last event's), as the visits fragment takes it.
			expr, ok, agg = "MATCH(c_"+d.Column+")", true, "argMin"
			if d.Last {
				agg = "argMax"
			}
		}
		if !ok {
			return "", fmt.Errorf("funnel: no filter on %q", f.Dim)
		}
		fmt.Fprintf(&matches, ",\n       toUInt8(%s) AS f%s", strings.ReplaceAll(matchOf(expr), "FILTER_N", n), n)
		if agg == "max" {
			fmt.Fprintf(&hits, ", max(f%s) AS h%s", n, n)
		} else {
			fmt.Fprintf(&hits, ", %s(f%s, k) AS h%s", agg, n, n)
		}
		fmt.Fprintf(&pass, "\n           AND %s(h%s = 1)", not, n)
	}
	query := strings.NewReplacer("{{FILTER_MATCHES}}", matches.String(), "{{FILTER_HITS}}", hits.String(),
		"{{FILTER_PASS}}", pass.String(), "{{FUNNEL_PASS}}", funnelPass.String()).Replace(qReportsFunnel[len(q.Funnel)])
	return expandFragments(query, 0), nil
}

// finalRead and startsRead are how the events fragment
// (rollup_frag_events.sql) begins the conditions of its two reads: the
// events (FINAL) and the visit starts of the events without a session
// id. narrowed adds its own to each.
var (
	finalRead  = regexp.MustCompile(`FROM events FINAL\s+WHERE`)
	startsRead = "AND bot = 0 AND type NOT IN ('email_open', 'email_click') AND session_id = 0"
)

// visitsFilterArrays are the pairs visits_filter.sql looks for a filter's
// hit in: the session and the touched values.
const visitsFilterArrays = "arrayConcat(session_dims, touched_dims), arrayConcat(session_values, touched_values)"

// narrowed is query made to read only the events of the visits
// FromVisits allows (reports_narrow.sql), or query as it is when q does
// not narrow: a PREWHERE of the events read (the visitor key and session
// id are the same in every version of an event, so FINAL keeps its
// meaning), and a condition of the visit starts read. It fails (in the
// reports tests too) if the events fragment no longer reads as
// finalRead and startsRead say.
func narrowed(query string, q store.FilteredBreakdownQuery) (string, error) {
	idx := q.NarrowingFilters()
	if len(idx) == 0 {
		return query, nil
	}
	if n := len(finalRead.FindAllStringIndex(query, -1)); n == 0 || n != strings.Count(query, startsRead) {
		return "", fmt.Errorf("the events fragment's reads changed; update store/clickhouse/reports.go")
	}
	var conds strings.Builder
	for _, i := range idx {
		// A session dimension's value is among the row's session values,
		// an event dimension's among its touched values: testing only
		// those costs a third of testing both.
		arrays := "touched_dims, touched_values"
		if store.SessionDimension(q.Filters[i].Dim) {
			arrays = "session_dims, session_values"
		}
		cond := strings.ReplaceAll(qVisitsFilter, "N)", strconv.Itoa(i+1)+")")
		if cond = strings.Replace(cond, visitsFilterArrays, arrays, 1); !strings.Contains(cond, arrays) {
			return "", fmt.Errorf("visits_filter.sql no longer tests %s; update store/clickhouse/reports.go", visitsFilterArrays)
		}
		conds.WriteString("\n" + strings.Replace(qReportsNarrowFilter, "COND", cond, 1))
	}
	narrow := strings.TrimPrefix(strings.Replace(qReportsNarrow, "{{narrow_filters}}", conds.String(), 1), "AND ")
	query = finalRead.ReplaceAllLiteralString(query, "FROM events FINAL\nPREWHERE "+narrow+"\nWHERE")
	return strings.ReplaceAll(query, startsRead, startsRead+"\nAND "+narrow), nil
}

// matchCall is MATCH(x) in funnelEventMatch's expressions, x without
// parentheses of its own or one call deep.
var matchCall = regexp.MustCompile(`MATCH\(((?:[^()]|\([^()]*\))*)\)`)

// filteredQuery is reports_filtered_breakdown with the rows it reads.
func filteredQuery(k rowKinds) string {
	var rows []string
	if k.sessions {
		rows = append(rows, mustQuery("reports_filtered_rows_sessions"))
	}
	if k.events {
		rows = append(rows, mustQuery("reports_filtered_rows_events"))
	}
	if k.funnel > 0 {
		rows = append(rows, funnelRows(k.funnel))
	}
	if k.scroll {
		rows = append(rows, mustQuery("reports_filtered_rows_scroll"))
	}
	q := strings.Replace(mustQuery("reports_filtered_breakdown"), "{{visit_rows}}", strings.Join(rows, "\nUNION ALL\n"), 1)
	return expandFragments(q, 0)
}

// windowExpr is how the rollup fragments put an event in its window.
const windowExpr = "if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz)))"

// withWindow makes a query over the rollup fragments put each event in the
// window expr gives it. It fails (in the reports tests too) if the
// fragments no longer window events that way.
func withWindow(q, expr string) (string, error) {
	if n := strings.Count(q, windowExpr); n == 0 || n%2 != 0 {
		return "", fmt.Errorf("the rollup fragments' window expression changed; update store/clickhouse/reports.go")
	}
	return strings.ReplaceAll(q, windowExpr, expr), nil
}

// HasRevenue reports whether the site has an event with revenue in the
// query's range (bots included: it only spares the goals report a query).
func (s *Store) HasRevenue(ctx context.Context, q store.VisitorQuery) (bool, error) {
	rows, err := s.conn.Query(budgeted(ctx, nil), qReportsHasRevenue,
		ch.Named("site", q.SiteID), ch.Named("from", uint32(q.From.Unix())), ch.Named("to", uint32(q.To.Unix())))
	if err != nil {
		return false, fmt.Errorf("has revenue: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("has revenue: %w", budgetErr(ctx, err))
	}
	return found, nil
}

// DistinctVisitors answers a VisitorQuery from the raw events (uniqExact).
func (s *Store) DistinctVisitors(ctx context.Context, q store.VisitorQuery) (uint64, error) {
	var n uint64
	err := s.conn.QueryRow(budgeted(ctx, nil), qReportsVisitors,
		ch.Named("site", q.SiteID), ch.Named("from", uint32(q.From.Unix())), ch.Named("to", uint32(q.To.Unix()))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count visitors: %w", budgetErr(ctx, err))
	}
	return n, nil
}

// valueColumns are the events columns that hold each dimension's value
// (store.Dimensions): what reports_visitors_sessions and _events group by.
// The exit page is the path of a visit's last event.
var valueColumns = func() map[string]string {
	m := map[string]string{}
	for _, d := range store.Dimensions {
		if d.Column != "" {
			m[d.Name] = d.Column
		}
	}
	return m
}()

// VisitorsByValue answers a ValueVisitorQuery from the raw events with the
// rollups' rules over one window, the whole range, in one pass over the
// events: a session dimension by its visits' first (exit page: last)
// events, an event dimension by every event. E-mail dimensions have no
// visitors.
func (s *Store) VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error) {
	if store.EmailDimension(q.Dimension) {
		return map[string]uint64{}, nil
	}
	column, ok := valueColumns[q.Dimension]
	if !ok {
		return nil, fmt.Errorf("visitors by value: unknown dimension %q", q.Dimension)
	}
	query := qReportsVisitorsEvents
	if store.SessionDimension(q.Dimension) {
		query = qReportsVisitorsSessions
	}
	query = strings.Replace(query, "{{COLUMN}}", column, 1)
	args := []any{ch.Named("site", q.SiteID), ch.Named("from", uint32(q.From.Unix())), ch.Named("to", uint32(q.To.Unix())),
		ch.Named("last", boolUInt8(q.Dimension == store.DimExitPage)), ch.Named("page", boolUInt8(q.Dimension == store.DimPage))}
	rows, err := s.conn.Query(budgeted(ctx, aggregationSettings), query, args...)
	if err != nil {
		return nil, fmt.Errorf("visitors by value: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var (
			v string
			n uint64
		)
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("visitors by value: %w", budgetErr(ctx, err))
		}
		out[v] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visitors by value: %w", budgetErr(ctx, err))
	}
	return out, nil
}

// VisitorsMatching answers a MatchVisitorQuery in one pass over the
// events, as VisitorsByValue finds visits.
func (s *Store) VisitorsMatching(ctx context.Context, q store.MatchVisitorQuery) (uint64, error) {
	if err := q.Validate(); err != nil {
		return 0, err
	}
	f := q.Filter
	query := strings.Replace(qReportsVisitorsMatching, "{{COLUMN}}", valueColumns[f.Dim], 1)
	var n uint64
	err := s.conn.QueryRow(budgeted(ctx, aggregationSettings), query,
		ch.Named("site", q.SiteID), ch.Named("from", uint32(q.From.Unix())), ch.Named("to", uint32(q.To.Unix())),
		ch.Named("last", boolUInt8(f.Dim == store.DimExitPage)), ch.Named("op", f.Op), ch.Named("value", f.Value)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("matching visitors: %w", budgetErr(ctx, err))
	}
	return n, nil
}

// bucketExpr puts an event in its bucket: the last of @buckets (Unix
// seconds, ascending) at or before it. The arrayResize hands ts to the
// lambda as an argument, as the events fragment does with t.
const bucketExpr = "toUInt32(arrayElement(@buckets, toUInt64(arrayCount((b, x) -> b <= x, @buckets, arrayResize(emptyArrayUInt32(), length(@buckets), toUInt32(ts))))))"

// hourly reports whether buckets are whole UTC hours, one after another to
// the end of the range: the fragments' own hourly windows.
func hourly(q store.FilteredBreakdownQuery) bool {
	if len(q.Buckets) == 0 {
		return false
	}
	for _, w := range q.Windows() {
		if w.Start.Unix()%3600 != 0 || w.End.Sub(w.Start) != time.Hour {
			return false
		}
	}
	return true
}

// FilteredBreakdown answers a FilteredBreakdownQuery from the raw events
// in one query: the range is one window, or each bucket is one.
func (s *Store) FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var kinds rowKinds
	for _, d := range q.Dims() {
		switch {
		case d == store.DimFunnel:
			kinds.funnel = len(q.Funnel)
		case d == store.DimScrollDepth:
			kinds.scroll = true
		case store.SessionDimension(d):
			kinds.sessions = true
		default:
			kinds.events = true
		}
	}
	query := qReportsFiltered[kinds]
	var err error
	if q.Dimension == store.DimFunnel {
		// The filters tested in the funnel's own pass over the events.
		if query, err = funnelQuery(q); err != nil {
			return nil, err
		}
	}
	if query, err = narrowed(query, q); err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	g := store.Daily
	switch {
	case hourly(q):
		g = store.Hourly // the fragments' own windows
	case len(q.Buckets) > 0:
		query, err = withWindow(query, bucketExpr)
	default: // [@from, @to) is one window
		query, err = withWindow(query, "toUInt32(@from)")
	}
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", budgetErr(ctx, err))
	}
	buckets := make([]uint32, len(q.Buckets))
	for i, b := range q.Buckets {
		buckets[i] = uint32(b.Unix())
	}
	var fdims, fops, fvals []string
	npos := 0
	for _, f := range q.Filters {
		fdims, fops, fvals = append(fdims, f.Dim), append(fops, f.Op), append(fvals, f.Value)
		if f.Op != "!=" {
			npos++
		}
	}
	args := append(windowArgs(q.SiteID, g, "", q.From, q.To),
		ch.Named("dims", q.Dims()), ch.Named("exclude_gpc", boolUInt8(q.ExcludeGPC)),
		ch.Named("bdim", q.Dimension), ch.Named("fdims", fdims), ch.Named("fops", fops),
		ch.Named("fvals", fvals), ch.Named("npos", npos), ch.Named("buckets", buckets), ch.Named("fresh", uint32(q.Fresh.Unix())))
	args = append(args, goalArgs(q.Goals, "g")...)
	args = append(args, funnelArgs(q.Goals, q.Funnel)...)
	out, err := s.breakdownRows(ctx, q.SiteID, q.Dimension, query, args)
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	return out, nil
}

// breakdownRows runs a query whose rows are a window (Unix seconds), a
// value of dim and the metrics, as FilteredBreakdown and VisitBreakdown
// answer.
func (s *Store) breakdownRows(ctx context.Context, siteID uint32, dim, query string, args []any) ([]store.RollupRow, error) {
	rows, err := s.conn.Query(budgeted(ctx, aggregationSettings), query, args...)
	if err != nil {
		return nil, budgetErr(ctx, err)
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		var win uint32
		r := store.RollupRow{SiteID: siteID, Dimension: dim}
		if err := rows.Scan(&win, &r.Value, &r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces, &r.DurationSec, &r.EngagedMS); err != nil {
			return nil, budgetErr(ctx, err)
		}
		r.WindowStart = time.Unix(int64(win), 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, budgetErr(ctx, err)
	}
	return out, nil
}

// goalArgs are the event rows fragment's goal arrays (@gnames, @gpage,
// @gpaths, @gevents, @gpkeys, @gpvals; with prefix "f" the funnel steps'
// @fnames, …), the blank goal first: it gives
// every array its element type when there are no goals or no props, and
// its rows have the empty value, which the fragment drops.
func goalArgs(goals []store.GoalMatch, prefix string) []any {
	names, page, events := []string{""}, []int{0}, []string{""} // not []uint8, which binds as a string
	paths, pkeys, pvals := [][]string{{""}}, [][]string{{""}}, [][]string{{""}}
	for _, g := range goals {
		isPage := 0
		if g.Event == "" {
			isPage = 1
		}
		var ks, vs []string
		for _, p := range g.Props {
			ks, vs = append(ks, p.Key), append(vs, p.Value)
		}
		names, page, events = append(names, g.Name), append(page, isPage), append(events, g.Event)
		paths, pkeys, pvals = append(paths, append([]string{}, g.Paths...)), append(pkeys, append([]string{}, ks...)), append(pvals, append([]string{}, vs...))
	}
	return []any{ch.Named(prefix+"names", names), ch.Named(prefix+"page", page), ch.Named(prefix+"paths", paths),
		ch.Named(prefix+"events", events), ch.Named(prefix+"pkeys", pkeys), ch.Named(prefix+"pvals", pvals)}
}

// funnelArgs are the funnel rows' step arrays (@fpage, @fpaths, @fevents,
// @fpkeys, @fpvals): each step's goal as goalArgs gives goals, after the
// blank one. Validate has checked that every step names one of goals.
func funnelArgs(goals []store.GoalMatch, steps []string) []any {
	var matches []store.GoalMatch
	for _, s := range steps {
		if i := slices.IndexFunc(goals, func(g store.GoalMatch) bool { return g.Name == s }); i >= 0 {
			matches = append(matches, goals[i])
		}
	}
	return goalArgs(matches, "f")
}
