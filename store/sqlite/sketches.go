package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/footfall/footfall/store"
)

// A window's visitor sketch (store/sketches.go) is a HyperLogLog++ sketch
// of 2^14 registers over its visit rows' visitor keys. The keys are hashed
// again as they go in (the sketch wants uniformly spread hashes; keys of
// consented visitors or tests need not be).

// stagedSketches builds the sketch of every window staged on conn
// (stageRollups' visit rows), by window start (Unix seconds).
func (s *Store) stagedSketches(ctx context.Context, conn *sql.Conn) (map[int64][]byte, error) {
	rows, err := conn.QueryContext(ctx, s.query("sketches_stage_keys"))
	if err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", err)
	}
	defer rows.Close()
	sketches := map[int64]*hyperloglog.Sketch{}
	var buf [8]byte
	for rows.Next() {
		var window, key int64
		if err := rows.Scan(&window, &key); err != nil {
			return nil, fmt.Errorf("sketch visitors: %w", err)
		}
		sk := sketches[window]
		if sk == nil {
			sk = hyperloglog.New14()
			sketches[window] = sk
		}
		binary.LittleEndian.PutUint64(buf[:], uint64(key))
		sk.Insert(buf[:])
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", err)
	}
	out := make(map[int64][]byte, len(sketches))
	for w, sk := range sketches {
		b, err := sk.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("sketch visitors: %w", err)
		}
		out[w] = b
	}
	return out, nil
}

// publishSketches replaces the sketches of the windows in args by
// sketches, in ReplaceRollups' publishing transaction.
func (s *Store) publishSketches(ctx context.Context, tx *sql.Tx, args []any, sketches map[int64][]byte) error {
	if _, err := tx.ExecContext(ctx, s.query("sketches_delete"), args...); err != nil {
		return fmt.Errorf("delete sketches: %w", err)
	}
	for w, b := range sketches {
		if _, err := tx.ExecContext(ctx, s.query("sketches_insert"), append(args, sql.Named("window", w), sql.Named("sketch", b))...); err != nil {
			return fmt.Errorf("insert sketch: %w", err)
		}
	}
	return nil
}

// SketchVisitors estimates the distinct visitors per bucket of q (the
// totals, unfiltered) by merging the windows' sketches.
func (s *Store) SketchVisitors(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	if err := store.ValidateSketchQuery(q); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.query("sketches_select"), rangeArgs(q.SiteID, q.Granularity, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", err)
	}
	defer rows.Close()
	starts := q.BucketStarts()
	merged := make([]*hyperloglog.Sketch, len(starts))
	for rows.Next() {
		var window int64
		var b []byte
		if err := rows.Scan(&window, &b); err != nil {
			return nil, fmt.Errorf("sketch visitors: %w", err)
		}
		var sk hyperloglog.Sketch
		if err := sk.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("sketch visitors: window %d: %w", window, err)
		}
		i := bucketOf(starts, time.Unix(window, 0))
		if i < 0 {
			continue
		}
		if merged[i] == nil {
			merged[i] = &sk
		} else if err := merged[i].Merge(&sk); err != nil {
			return nil, fmt.Errorf("sketch visitors: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sketch visitors: %w", err)
	}
	var out []store.RollupRow
	for i, sk := range merged {
		if sk != nil {
			out = append(out, store.RollupRow{SiteID: q.SiteID, Granularity: q.Granularity, WindowStart: starts[i].UTC(),
				Dimension: store.DimTotal, Visitors: sk.Estimate()})
		}
	}
	return out, nil
}

// bucketOf is the index of the last of starts (ascending) at or before t,
// or -1.
func bucketOf(starts []time.Time, t time.Time) int {
	i := -1
	for j, s := range starts {
		if !s.After(t) {
			i = j
		}
	}
	return i
}
