package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qAuditAppend = mustQuery("audit_append")
	qAuditLog    = mustQuery("audit_log")
)

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	batch, err := s.conn.PrepareBatch(ctx, qAuditAppend)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(e.Time.UTC(), e.Actor, e.Action, e.Target, e.Detail); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AuditLog returns at most limit entries in [from, to), oldest first.
func (s *Store) AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error) {
	rows, err := s.conn.Query(ctx, qAuditLog, from.UTC(), to.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		if err := rows.Scan(&e.Time, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.Time = e.Time.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
