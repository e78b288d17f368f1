package clickhouse

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qSalts             = mustQuery("salts")
	qSaltAdd           = mustQuery("salt_add")
	qSaltsDeleteBefore = mustQuery("salts_delete_before")
)

// Salts returns every daily salt kept.
func (s *Store) Salts(ctx context.Context) ([]store.Salt, error) {
	rows, err := s.conn.Query(ctx, qSalts)
	if err != nil {
		return nil, fmt.Errorf("read salts: %w", err)
	}
	defer rows.Close()
	var out []store.Salt
	for rows.Next() {
		var salt store.Salt
		var secret string
		if err := rows.Scan(&salt.Day, &secret, &salt.Created); err != nil {
			return nil, fmt.Errorf("read salts: %w", err)
		}
		if salt.Secret, err = hex.DecodeString(secret); err != nil {
			return nil, fmt.Errorf("read salts: %w", err)
		}
		salt.Day = time.Date(salt.Day.Year(), salt.Day.Month(), salt.Day.Day(), 0, 0, 0, 0, time.UTC)
		salt.Created = salt.Created.UTC()
		out = append(out, salt)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read salts: %w", err)
	}
	return out, nil
}

// AddSalt keeps a new daily salt.
func (s *Store) AddSalt(ctx context.Context, salt store.Salt) error {
	batch, err := s.conn.PrepareBatch(ctx, qSaltAdd)
	if err != nil {
		return fmt.Errorf("add salt: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(salt.Day.UTC(), hex.EncodeToString(salt.Secret), salt.Created.UTC()); err != nil {
		return fmt.Errorf("add salt: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("add salt: %w", err)
	}
	return nil
}

// DeleteSaltsBefore destroys every salt of a day before day, and waits until
// ClickHouse has: a destroyed salt must not be readable afterwards.
func (s *Store) DeleteSaltsBefore(ctx context.Context, day time.Time) error {
	if err := s.alter(ctx, qSaltsDeleteBefore, day.UTC().Format(time.DateOnly)); err != nil {
		return fmt.Errorf("delete salts: %w", err)
	}
	if err := s.waitMutations(ctx, "salts"); err != nil {
		return fmt.Errorf("delete salts: %w", err)
	}
	return nil
}
