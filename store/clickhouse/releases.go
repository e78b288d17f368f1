package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

var (
	qPartnerReleaseAdd = mustQuery("partner_release_add")
	qPartnerRelease    = mustQuery("partner_release")
	qPartnerReleases   = mustQuery("partner_releases")
)

// AddPartnerRelease stores a release as served.
func (s *Store) AddPartnerRelease(ctx context.Context, r store.PartnerRelease) error {
	batch, err := s.conn.PrepareBatch(ctx, qPartnerReleaseAdd)
	if err != nil {
		return fmt.Errorf("store partner release: %w", err)
	}
	defer batch.Close()
	if err := batch.Append(r.ID, r.Partner, r.From, r.To, r.Epsilon, r.Created.UTC(), string(r.Body)); err != nil {
		return fmt.Errorf("store partner release: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("store partner release: %w", err)
	}
	return nil
}

// PartnerRelease returns the first release stored for a partner's window,
// or store.ErrNotFound.
func (s *Store) PartnerRelease(ctx context.Context, partner, from, to string) (store.PartnerRelease, error) {
	rows, err := s.conn.Query(ctx, qPartnerRelease, partner, from, to)
	if err != nil {
		return store.PartnerRelease{}, fmt.Errorf("read partner release: %w", err)
	}
	rels, err := scanReleases(rows)
	if err != nil {
		return store.PartnerRelease{}, err
	}
	if len(rels) == 0 {
		return store.PartnerRelease{}, store.ErrNotFound
	}
	return rels[0], nil
}

// PartnerReleases lists a partner's releases stored at or after since,
// oldest first, without their bodies.
func (s *Store) PartnerReleases(ctx context.Context, partner string, since time.Time) ([]store.PartnerRelease, error) {
	rows, err := s.conn.Query(ctx, qPartnerReleases, partner, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("read partner releases: %w", err)
	}
	return scanReleases(rows)
}

func scanReleases(rows driver.Rows) ([]store.PartnerRelease, error) {
	defer rows.Close()
	var out []store.PartnerRelease
	for rows.Next() {
		var r store.PartnerRelease
		var body string
		if err := rows.Scan(&r.ID, &r.Partner, &r.From, &r.To, &r.Epsilon, &r.Created, &body); err != nil {
			return nil, fmt.Errorf("read partner releases: %w", err)
		}
		if body != "" {
			r.Body = []byte(body)
		}
		r.Created = r.Created.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partner releases: %w", err)
	}
	return out, nil
}
