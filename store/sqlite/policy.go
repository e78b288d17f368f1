package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// RecordPolicyVersion notes that a site's policy version is in effect from
// since, unless it was recorded before.
func (s *Store) RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.query("policy_record"), siteID, version, since.Unix()); err != nil {
		return fmt.Errorf("record policy version: %w", err)
	}
	return nil
}

// PolicyVersions returns every recorded policy version, by site and version.
func (s *Store) PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.query("policy_versions"))
	if err != nil {
		return nil, fmt.Errorf("read policy versions: %w", err)
	}
	defer rows.Close()
	var out []store.PolicyVersion
	for rows.Next() {
		var p store.PolicyVersion
		var since int64
		if err := rows.Scan(&p.SiteID, &p.Version, &since); err != nil {
			return nil, fmt.Errorf("read policy versions: %w", err)
		}
		p.Since = time.Unix(since, 0).UTC()
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read policy versions: %w", err)
	}
	return out, nil
}
