package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if _, err := s.db.ExecContext(ctx, s.query("audit_append"), e.Time.Unix(), e.Actor, e.Action, e.Target, e.Detail); err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AuditLog returns at most limit entries in [from, to), oldest first.
func (s *Store) AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, s.query("audit_log"), from.Unix(), to.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var ts int64
		if err := rows.Scan(&ts, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.Time = time.Unix(ts, 0).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}
