package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// RecordErasure appends a state of an erasure request: pending (Done zero)
// or its completion.
func (s *Store) RecordErasure(ctx context.Context, e store.Erasure) error {
	var done int64
	if !e.Done.IsZero() {
		done = e.Done.Unix()
	}
	if _, err := s.db.ExecContext(ctx, s.query("erasure_record"), e.ConsentID.String(), e.Requested.Unix(), done, e.Erased); err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	return nil
}

// Erasures returns the latest state of every erasure request made since a
// time, oldest first.
func (s *Store) Erasures(ctx context.Context, since time.Time) ([]store.Erasure, error) {
	rows, err := s.db.QueryContext(ctx, s.query("erasures"), since.Unix())
	if err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	defer rows.Close()
	var out []store.Erasure
	for rows.Next() {
		var e store.Erasure
		var id string
		var requested, done int64
		if err := rows.Scan(&id, &requested, &done, &e.Erased); err != nil {
			return nil, fmt.Errorf("read erasures: %w", err)
		}
		if e.ConsentID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("read erasures: %w", err)
		}
		e.Requested = time.Unix(requested, 0).UTC()
		if done > 0 {
			e.Done = time.Unix(done, 0).UTC()
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	return out, nil
}
