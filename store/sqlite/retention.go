package sqlite

import (
	"context"
	"database/sql"
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
		count, match  string
		change, table string
		n             *int64
	}{
		// IPs first, as on ClickHouse: each class is counted on its own.
		{"raw IPs", plan.IPBefore, "retention_count_ips", "retention_match_ips", "events_clear_ip_rowids", "events", &res.IPs},
		{"raw events", plan.EventsBefore, "retention_count_events", "retention_match_events", "events_delete_rowids", "events", &res.Events},
		// Visit rows hold the events' visitor keys: they go with them.
		{"visit rows", plan.EventsBefore, "retention_count_visits", "retention_match_visits", "visits_delete_rowids", "visits", &res.Visits},
		{"consent ledger", plan.LedgerBefore, "retention_count_ledger", "retention_match_ledger", "consent_ledger_delete_rowids", "consent_ledger", &res.LedgerRecords},
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
		n, err := s.inSlices(ctx, st.table, st.match, st.change, sql.Named("before", st.before.Unix()))
		*st.n = n
		if err != nil {
			return res, fmt.Errorf("retention of %s: %w", st.name, err)
		}
	}
	return res, nil
}
