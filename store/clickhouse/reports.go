package clickhouse

import (
	"context"
	"fmt"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

var (
	qReportsVisitors          = mustQuery("reports_visitors")
	qReportsVisitorsSessions  = rollupQuery("reports_visitors_sessions")
	qReportsVisitorsEvents    = rollupQuery("reports_visitors_events")
	qReportsFilteredBreakdown = rollupQuery("reports_filtered_breakdown")
)

// windowExpr is how the rollup fragments put an event in its window.
const windowExpr = "if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz)))"

// oneWindow makes a query over the rollup fragments treat [@from, @to) as
// one window. It fails (in the reports tests too) if the fragments no
// longer window events that way.
func oneWindow(q string) (string, error) {
	if n := strings.Count(q, windowExpr); n == 0 || n%2 != 0 {
		return "", fmt.Errorf("the rollup fragments' window expression changed; update store/clickhouse/reports.go")
	}
	return strings.ReplaceAll(q, windowExpr, "toUInt32(@from)"), nil
}

// DistinctVisitors answers a VisitorQuery from the raw events (uniqExact).
func (s *Store) DistinctVisitors(ctx context.Context, q store.VisitorQuery) (uint64, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, qReportsVisitors,
		ch.Named("site", q.SiteID), ch.Named("from", uint32(q.From.Unix())), ch.Named("to", uint32(q.To.Unix()))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count visitors: %w", err)
	}
	return n, nil
}

// VisitorsByValue answers a ValueVisitorQuery from the raw events with the
// rollups' rules over one window, the whole range.
func (s *Store) VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error) {
	if !store.KnownDimension(q.Dimension) || q.Dimension == store.DimTotal {
		return nil, fmt.Errorf("visitors by value: unknown dimension %q", q.Dimension)
	}
	query := qReportsVisitorsEvents
	if store.SessionDimension(q.Dimension) {
		query = qReportsVisitorsSessions
	}
	query, err := oneWindow(query)
	if err != nil {
		return nil, fmt.Errorf("visitors by value: %w", err)
	}
	args := append(windowArgs(q.SiteID, store.Daily, "", q.From, q.To),
		ch.Named("dims", []string{q.Dimension}), ch.Named("exclude_gpc", 0))
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(aggregationSettings)), query, args...)
	if err != nil {
		return nil, fmt.Errorf("visitors by value: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var (
			v string
			n uint64
		)
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("visitors by value: %w", err)
		}
		out[v] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visitors by value: %w", err)
	}
	return out, nil
}

// FilteredBreakdown answers a FilteredBreakdownQuery from the raw events.
func (s *Store) FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	query, err := oneWindow(qReportsFilteredBreakdown)
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	args := append(windowArgs(q.SiteID, store.Daily, "", q.From, q.To),
		ch.Named("dims", []string{q.FilterDim, q.Dimension}), ch.Named("exclude_gpc", 0),
		ch.Named("bdim", q.Dimension), ch.Named("fdim", q.FilterDim),
		ch.Named("fop", q.FilterOp), ch.Named("fval", q.FilterValue))
	rows, err := s.conn.Query(ch.Context(ctx, ch.WithSettings(aggregationSettings)), query, args...)
	if err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		r := store.RollupRow{SiteID: q.SiteID, Dimension: q.Dimension, WindowStart: q.From}
		if err := rows.Scan(&r.Value, &r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces, &r.DurationSec, &r.EngagedMS); err != nil {
			return nil, fmt.Errorf("filtered breakdown: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("filtered breakdown: %w", err)
	}
	return out, nil
}
