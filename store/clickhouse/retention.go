package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qRetentionCountEvents      = mustQuery("retention_count_events")
	qRetentionCountIPs         = mustQuery("retention_count_ips")
	qRetentionCountLedger      = mustQuery("retention_count_ledger")
	qRetentionOldPartitions    = mustQuery("retention_old_partitions")
	qRetentionOldPartitionsAll = mustQuery("retention_old_partitions_cluster")
	qRetentionDropEvents       = mustQuery("retention_drop_events_partition")
	qRetentionDropLedger       = mustQuery("retention_drop_ledger_partition")
	qRetentionDeleteEvents     = mustQuery("retention_delete_events")
	qRetentionClearIPs         = mustQuery("retention_clear_ips")
	qRetentionDeleteLedger     = mustQuery("retention_delete_ledger")
	qRetentionCountVisits      = mustQuery("retention_count_visits")
	qRetentionDropVisits       = mustQuery("retention_drop_visits_partition")
	qRetentionDeleteVisits     = mustQuery("retention_delete_visits")
)

// ApplyRetention removes what plan says is past its keeping time, or with
// dryRun only counts it. Whole months before a cutoff go by DROP PARTITION;
// the rest of the cutoff's month, and the IP column, by mutations waited for
// on system.mutations (TTL does not exist on ClickHouse 18.16).
func (s *Store) ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error) {
	var res store.RetentionResult
	if !plan.IPBefore.IsZero() {
		n, err := s.count(ctx, qRetentionCountIPs, plan.IPBefore)
		if err != nil {
			return res, fmt.Errorf("retention of raw IPs: %w", err)
		}
		res.IPs = n
		if !dryRun && n > 0 {
			if err := s.mutate(ctx, "events", qRetentionClearIPs, plan.IPBefore.UTC()); err != nil {
				return res, fmt.Errorf("retention of raw IPs: %w", err)
			}
		}
	}
	for _, c := range []struct {
		name, table, count, drop, del string
		before                        time.Time
		n                             *int64
	}{
		{"raw events", "events", qRetentionCountEvents, qRetentionDropEvents, qRetentionDeleteEvents, plan.EventsBefore, &res.Events},
		// Visit rows hold the events' visitor keys: they go with them.
		{"visit rows", "visits", qRetentionCountVisits, qRetentionDropVisits, qRetentionDeleteVisits, plan.EventsBefore, &res.Visits},
		{"consent ledger", "consent_ledger", qRetentionCountLedger, qRetentionDropLedger, qRetentionDeleteLedger, plan.LedgerBefore, &res.LedgerRecords},
	} {
		if c.before.IsZero() {
			continue
		}
		n, err := s.count(ctx, c.count, c.before)
		if err != nil {
			return res, fmt.Errorf("retention of %s: %w", c.name, err)
		}
		*c.n = n
		if dryRun || n == 0 {
			continue
		}
		if err := s.dropMonthsBefore(ctx, c.table, c.drop, c.before); err != nil {
			return res, fmt.Errorf("retention of %s: %w", c.name, err)
		}
		if left, err := s.count(ctx, c.count, c.before); err != nil {
			return res, fmt.Errorf("retention of %s: %w", c.name, err)
		} else if left > 0 {
			if err := s.mutate(ctx, c.table, c.del, c.before.UTC()); err != nil {
				return res, fmt.Errorf("retention of %s: %w", c.name, err)
			}
		}
	}
	return res, nil
}

func (s *Store) count(ctx context.Context, query string, before time.Time) (int64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, query, before.UTC()).Scan(&n); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// dropMonthsBefore drops every partition of a month wholly before cutoff.
func (s *Store) dropMonthsBefore(ctx context.Context, table, drop string, cutoff time.Time) error {
	cutoff = cutoff.UTC()
	month := uint32(cutoff.Year()*100 + int(cutoff.Month()))
	query, args := qRetentionOldPartitions, []any{table, month}
	if s.cluster.on() {
		query, args = qRetentionOldPartitionsAll, []any{s.cluster.name, s.cluster.database, s.cluster.local(table), month}
	}
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	var parts []uint32
	for rows.Next() {
		var p uint32
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		parts = append(parts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range parts {
		if err := s.alter(ctx, drop, p); err != nil {
			return fmt.Errorf("drop partition %d: %w", p, err)
		}
	}
	return nil
}

// mutate runs an ALTER … DELETE/UPDATE and waits until it is applied.
func (s *Store) mutate(ctx context.Context, table, query string, args ...any) error {
	if err := s.alter(ctx, query, args...); err != nil {
		return err
	}
	return s.waitMutations(ctx, table)
}
