package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// ApplyRetention deletes what plan says is past its keeping time, or with
// dryRun only counts it.
func (s *Store) ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error) {
	var res store.RetentionResult
	steps := []struct {
		name          string
		before        time.Time
		count, change string
		n             *int64
	}{
		// IPs first, as on ClickHouse: each class is counted on its own.
		{"raw IPs", plan.IPBefore, "retention_count_ips", "retention_clear_ips", &res.IPs},
		{"raw events", plan.EventsBefore, "retention_count_events", "retention_delete_events", &res.Events},
		{"consent ledger", plan.LedgerBefore, "retention_count_ledger", "retention_delete_ledger", &res.LedgerRecords},
	}
	for _, st := range steps {
		if st.before.IsZero() {
			continue
		}
		if dryRun {
			if err := s.db.QueryRowContext(ctx, s.query(st.count), st.before.Unix()).Scan(st.n); err != nil {
				return res, fmt.Errorf("retention of %s: %w", st.name, err)
			}
			continue
		}
		r, err := s.db.ExecContext(ctx, s.query(st.change), st.before.Unix())
		if err != nil {
			return res, fmt.Errorf("retention of %s: %w", st.name, err)
		}
		if *st.n, err = r.RowsAffected(); err != nil {
			return res, fmt.Errorf("retention of %s: %w", st.name, err)
		}
	}
	return res, nil
}
