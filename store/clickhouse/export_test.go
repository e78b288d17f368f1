package clickhouse

import (
	"context"

	"github.com/footfall/footfall/store"
)

// Endless runs a query that never ends by itself, as the report queries
// run: under ctx's budget.
func (s *Store) Endless(ctx context.Context) error {
	var n uint64
	err := s.conn.QueryRow(budgeted(ctx, nil), "SELECT count() FROM system.numbers").Scan(&n)
	return budgetErr(ctx, err)
}

// MigrateTo applies the pending migrations up to version: the schema as
// an older release left it.
func (s *Store) MigrateTo(ctx context.Context, version int) ([]store.MigrationFile, error) {
	return s.migrate(ctx, version)
}
