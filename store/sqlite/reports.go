package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/footfall/footfall/store"
)

// DistinctVisitors answers a VisitorQuery from the raw events.
func (s *Store) DistinctVisitors(ctx context.Context, q store.VisitorQuery) (uint64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.query("reports_visitors"),
		sql.Named("site", q.SiteID), sql.Named("from", q.From.Unix()), sql.Named("to", q.To.Unix())).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count visitors: %w", err)
	}
	return uint64(n), nil
}

// HasRevenue reports whether the site has an event with revenue in the
// query's range (bots included: it only spares the goals report a query).
func (s *Store) HasRevenue(ctx context.Context, q store.VisitorQuery) (bool, error) {
	var found bool
	err := s.db.QueryRowContext(ctx, s.query("reports_has_revenue"),
		sql.Named("site", q.SiteID), sql.Named("from", q.From.Unix()), sql.Named("to", q.To.Unix())).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("has revenue: %w", err)
	}
	return found, nil
}

// VisitorsByValue answers a ValueVisitorQuery from the raw events with the
// rollups' rules over one window, the whole range.
func (s *Store) VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error) {
	if !store.KnownDimension(q.Dimension) || q.Dimension == store.DimTotal {
		return nil, fmt.Errorf("visitors by value: unknown dimension %q", q.Dimension)
	}
	args := append(rangeArgs(q.SiteID, store.Daily, q.From, q.To),
		sql.Named("windows", windowsJSON([]store.Window{{Start: q.From, End: q.To}})),
		sql.Named("dims", jsonStrings([]string{q.Dimension})),
		sql.Named("exclude_gpc", 0),
		noGoals,
	)
	rows, err := s.db.QueryContext(ctx, s.rollupQueryWith("reports_visitors_by_value", oneWindow()), args...)
	if err != nil {
		return nil, fmt.Errorf("visitors by value: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var (
			v string
			n int64
		)
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("visitors by value: %w", err)
		}
		out[v] = uint64(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visitors by value: %w", err)
	}
	return out, nil
}

// VisitorsMatching answers a MatchVisitorQuery from the raw events with
// the rollups' rules over one window, the whole range.
func (s *Store) VisitorsMatching(ctx context.Context, q store.MatchVisitorQuery) (uint64, error) {
	if err := q.Validate(); err != nil {
		return 0, err
	}
	args := append(rangeArgs(q.SiteID, store.Daily, q.From, q.To),
		sql.Named("windows", windowsJSON([]store.Window{{Start: q.From, End: q.To}})),
		sql.Named("dims", jsonStrings([]string{q.Filter.Dim})),
		sql.Named("exclude_gpc", 0),
		sql.Named("op", q.Filter.Op), sql.Named("value", q.Filter.Value),
		noGoals,
	)
	var n int64
	if err := s.db.QueryRowContext(ctx, s.rollupQueryWith("reports_visitors_matching", oneWindow()), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("matching visitors: %w", err)
	}
	return uint64(n), nil
}

// FilteredBreakdown answers a FilteredBreakdownQuery from the raw events
// in one query: every bucket is a window of the rows fragment. A funnel
// without filters needs no visit's other values, so it reads less
// (reports_funnel.sql). With FromVisits it reads only the events of the
// visits the daily visit rows allow (reports_narrow.sql).
func (s *Store) FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	filters := make([][3]string, len(q.Filters))
	npos := 0
	for i, f := range q.Filters {
		filters[i] = [3]string{f.Dim, f.Op, f.Value}
		if f.Op != "!=" {
			npos++
		}
	}
	fj, err := json.Marshal(filters)
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	args := append(rangeArgs(q.SiteID, store.Daily, q.From, q.To),
		sql.Named("windows", windowsJSON(q.Windows())),
		sql.Named("dims", jsonStrings(q.Dims())),
		sql.Named("exclude_gpc", boolInt(q.ExcludeGPC)),
		sql.Named("bdim", q.Dimension),
		sql.Named("filters", string(fj)),
		sql.Named("npos", npos),
		sql.Named("goals", goalsJSON(q.Goals)),
		sql.Named("funnel", jsonStrings(q.Funnel)),
	)
	query, swap := "reports_filtered_breakdown", map[string]string{}
	if len(q.Buckets) <= 1 {
		swap = oneWindow()
	}
	if q.Dimension == store.DimFunnel && !slices.ContainsFunc(q.Filters, func(f store.Filter) bool { return f != store.EveryFunnelVisit }) {
		query, swap["period_columns"] = "reports_funnel", "reports_funnel_columns"
	}
	if idx := q.NarrowingFilters(); len(idx) > 0 {
		narrow := make([]store.Filter, len(idx))
		for j, i := range idx {
			narrow[j] = q.Filters[i]
		}
		nj, err := visitFiltersJSON(narrow)
		if err != nil {
			return nil, fmt.Errorf("filtered breakdown: %w", err)
		}
		args = append(args, sql.Named("narrow", nj), sql.Named("fresh", q.Fresh.Unix()))
		swap["narrow"] = "reports_narrow"
	}
	out, err := s.breakdownRows(ctx, q.SiteID, q.Dimension, s.rollupQueryWith(query, swap), args)
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	return out, nil
}

// oneWindow swaps the events fragment's join to its windows for the one
// of a query with one window (reports_period_one_window.sql).
func oneWindow() map[string]string {
	return map[string]string{"period_join": "reports_period_one_window"}
}

// breakdownRows runs a query whose rows are a window (Unix seconds), a
// value of dim and the metrics, as FilteredBreakdown and VisitBreakdown
// answer.
func (s *Store) breakdownRows(ctx context.Context, siteID uint32, dim, query string, args []any) ([]store.RollupRow, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		var win int64
		r := store.RollupRow{SiteID: siteID, Dimension: dim}
		if err := rows.Scan(&win, &r.Value, &r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces, &r.DurationSec, &r.EngagedMS); err != nil {
			return nil, err
		}
		r.WindowStart = time.Unix(win, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// goalsJSON encodes goals as the rows fragment's :goals: [name, "page" or
// "event", paths, event name, [[key, value], …]] each.
func goalsJSON(goals []store.GoalMatch) string {
	out := make([][5]any, len(goals))
	for i, g := range goals {
		kind, paths, props := "event", g.Paths, make([][2]string, len(g.Props))
		if g.Event == "" {
			kind = "page"
		}
		if paths == nil {
			paths = []string{}
		}
		for j, p := range g.Props {
			props[j] = [2]string{p.Key, p.Value}
		}
		out[i] = [5]any{g.Name, kind, paths, g.Event, props}
	}
	b, _ := json.Marshal(out) // cannot fail: strings only
	return string(b)
}
