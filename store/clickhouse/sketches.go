package clickhouse

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

var (
	qSketchesInsert = mustQuery("sketches_insert")
	qSketchesSelect = mustQuery("sketches_select")
	qWindowsMissing = mustQuery("windows_missing")
)

// insertSketches writes the visitor sketches (store/sketches.go) of the
// windows in args from their visit rows, which ReplaceRollups has just
// inserted.
func (s *Store) insertSketches(ctx context.Context, args []any) error {
	if err := s.conn.Exec(ctx, qSketchesInsert, args...); err != nil {
		return fmt.Errorf("insert visitor sketches: %w", err)
	}
	return nil
}

// SketchVisitors estimates the distinct visitors per bucket of q (the
// totals, unfiltered) by merging the windows' sketches.
func (s *Store) SketchVisitors(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	if err := store.ValidateSketchQuery(q); err != nil {
		return nil, err
	}
	starts := q.BucketStarts()
	buckets := make([]uint32, len(starts))
	for i, b := range starts {
		buckets[i] = uint32(b.Unix())
	}
	args := append(windowArgs(q.SiteID, q.Granularity, "", q.From, q.To), ch.Named("buckets", buckets))
	rows, err := s.conn.Query(budgeted(ctx, nil), qSketchesSelect, args...)
	if err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		var win uint32
		r := store.RollupRow{SiteID: q.SiteID, Granularity: q.Granularity, Dimension: store.DimTotal}
		if err := rows.Scan(&win, &r.Visitors); err != nil {
			return nil, fmt.Errorf("sketch visitors: %w", budgetErr(ctx, err))
		}
		r.WindowStart = time.Unix(int64(win), 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", budgetErr(ctx, err))
	}
	return out, nil
}
