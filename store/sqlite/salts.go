package sqlite

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// Salts returns every daily salt kept.
func (s *Store) Salts(ctx context.Context) ([]store.Salt, error) {
	rows, err := s.db.QueryContext(ctx, s.query("salts"))
	if err != nil {
		return nil, fmt.Errorf("read salts: %w", err)
	}
	defer rows.Close()
	var out []store.Salt
	for rows.Next() {
		var day, created int64
		var secret string
		if err := rows.Scan(&day, &secret, &created); err != nil {
			return nil, fmt.Errorf("read salts: %w", err)
		}
		b, err := hex.DecodeString(secret)
		if err != nil {
			return nil, fmt.Errorf("read salts: %w", err)
		}
		out = append(out, store.Salt{Day: time.Unix(day, 0).UTC(), Secret: b, Created: time.Unix(created, 0).UTC()})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read salts: %w", err)
	}
	return out, nil
}

// AddSalt keeps a new daily salt.
func (s *Store) AddSalt(ctx context.Context, salt store.Salt) error {
	if _, err := s.db.ExecContext(ctx, s.query("salt_add"), salt.Day.Unix(), hex.EncodeToString(salt.Secret), salt.Created.Unix()); err != nil {
		return fmt.Errorf("add salt: %w", err)
	}
	return nil
}

// DeleteSaltsBefore destroys every salt of a day before day.
func (s *Store) DeleteSaltsBefore(ctx context.Context, day time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.query("salts_delete_before"), day.Unix()); err != nil {
		return fmt.Errorf("delete salts: %w", err)
	}
	return nil
}
