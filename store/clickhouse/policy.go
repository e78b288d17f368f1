package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qPolicyKnown    = mustQuery("policy_known")
	qPolicyRecord   = mustQuery("policy_record")
	qPolicyVersions = mustQuery("policy_versions")
)

// RecordPolicyVersion notes that a site's policy version is in effect from
// since, unless it was recorded before.
func (s *Store) RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error {
	var n uint64
	if err := s.conn.QueryRow(ctx, qPolicyKnown, siteID, version).Scan(&n); err != nil {
		return fmt.Errorf("record policy version: %w", err)
	}
	if n > 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, qPolicyRecord)
	if err != nil {
		return fmt.Errorf("record policy version: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(siteID, version, since.UTC()); err != nil {
		return fmt.Errorf("record policy version: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record policy version: %w", err)
	}
	return nil
}

// PolicyVersions returns every recorded policy version, by site and version.
func (s *Store) PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error) {
	rows, err := s.conn.Query(ctx, qPolicyVersions)
	if err != nil {
		return nil, fmt.Errorf("read policy versions: %w", err)
	}
	defer rows.Close()
	var out []store.PolicyVersion
	for rows.Next() {
		var p store.PolicyVersion
		if err := rows.Scan(&p.SiteID, &p.Version, &p.Since); err != nil {
			return nil, fmt.Errorf("read policy versions: %w", err)
		}
		p.Since = p.Since.UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read policy versions: %w", err)
	}
	return out, nil
}
