package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// AddPartnerRelease stores a release as served.
func (s *Store) AddPartnerRelease(ctx context.Context, r store.PartnerRelease) error {
	if _, err := s.db.ExecContext(ctx, s.query("partner_release_add"), r.ID.String(), r.Partner, r.From, r.To,
		r.Epsilon, r.Created.Unix(), r.Body); err != nil {
		return fmt.Errorf("store partner release: %w", err)
	}
	return nil
}

// PartnerRelease returns the first release stored for a partner's window,
// or store.ErrNotFound.
func (s *Store) PartnerRelease(ctx context.Context, partner, from, to string) (store.PartnerRelease, error) {
	rows, err := s.db.QueryContext(ctx, s.query("partner_release"), partner, from, to)
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
	rows, err := s.db.QueryContext(ctx, s.query("partner_releases"), partner, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("read partner releases: %w", err)
	}
	return scanReleases(rows)
}

func scanReleases(rows *sql.Rows) ([]store.PartnerRelease, error) {
	defer rows.Close()
	var out []store.PartnerRelease
	for rows.Next() {
		var r store.PartnerRelease
		var id string
		var created int64
		if err := rows.Scan(&id, &r.Partner, &r.From, &r.To, &r.Epsilon, &created, &r.Body); err != nil {
			return nil, fmt.Errorf("read partner releases: %w", err)
		}
		var err error
		if r.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("read partner releases: %w", err)
		}
		if len(r.Body) == 0 {
			r.Body = nil
		}
		r.Created = time.Unix(created, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read partner releases: %w", err)
	}
	return out, nil
}
