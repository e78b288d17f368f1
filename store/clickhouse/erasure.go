package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qErasureRecord = mustQuery("erasure_record")
	qErasures      = mustQuery("erasures")
)

// RecordErasure appends a state of an erasure request: pending (Done zero)
// or its completion.
func (s *Store) RecordErasure(ctx context.Context, e store.Erasure) error {
	batch, err := s.conn.PrepareBatch(ctx, qErasureRecord)
	if err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	defer batch.Close()
	done := time.Unix(0, 0).UTC()
	if !e.Done.IsZero() {
		done = e.Done.UTC()
	}
	if err := batch.Append(e.ConsentID, e.Requested.UTC(), done, uint64(max(e.Erased, 0))); err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	return nil
}

// Erasures returns the latest state of every erasure request made since a
// time, oldest first.
func (s *Store) Erasures(ctx context.Context, since time.Time) ([]store.Erasure, error) {
	rows, err := s.conn.Query(ctx, qErasures, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	defer rows.Close()
	var out []store.Erasure
	for rows.Next() {
		var e store.Erasure
		var erased uint64
		if err := rows.Scan(&e.ConsentID, &e.Requested, &e.Done, &erased); err != nil {
			return nil, fmt.Errorf("read erasures: %w", err)
		}
		e.Requested, e.Erased = e.Requested.UTC(), int64(erased)
		if e.Done.Unix() <= 0 {
			e.Done = time.Time{}
		} else {
			e.Done = e.Done.UTC()
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	return out, nil
}
