package clickhouse

import "context"

// Endless runs a query that never ends by itself, as the report queries
// run: under ctx's budget.
func (s *Store) Endless(ctx context.Context) error {
	var n uint64
	err := s.conn.QueryRow(budgeted(ctx, nil), "SELECT count() FROM system.numbers").Scan(&n)
	return budgetErr(ctx, err)
}
