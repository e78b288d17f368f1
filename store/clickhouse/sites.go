package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qSiteTaken    = mustQuery("site_taken")
	qSiteInsert   = mustQuery("site_insert")
	qSiteByDomain = mustQuery("site_by_domain")
	qSites        = mustQuery("sites")
)

// AddSite registers domain under a new site id: store.SiteID(domain), or a
// random one if another domain has that. It returns store.ErrSiteExists if
// the domain is already registered. The check and the insert are not
// atomic: two concurrent AddSite calls for one domain (two collectors
// starting on an empty store) can both insert, but they insert the same id,
// and the readers fold the rows of one id into one site.
func (s *Store) AddSite(ctx context.Context, domain string) (store.Site, error) {
	if domain == "" {
		return store.Site{}, errors.New("add site: empty domain")
	}
	// With n sites a random id is taken with probability n/2^32 (1 in 4
	// million at a thousand sites); two sites sharing an id would share their
	// events, so check: the table is small.
	const attempts = 5
	for i := range attempts {
		id := rand.Uint32()
		if i == 0 {
			id = store.SiteID(domain)
		}
		if id == 0 {
			continue
		}
		var domains, ids uint64
		if err := s.conn.QueryRow(ctx, qSiteTaken, domain, id).Scan(&domains, &ids); err != nil {
			return store.Site{}, fmt.Errorf("add site %s: %w", domain, err)
		}
		if domains > 0 {
			return store.Site{}, fmt.Errorf("add site %s: %w", domain, store.ErrSiteExists)
		}
		if ids > 0 {
			continue
		}
		site := store.Site{ID: id, Domain: domain, CreatedAt: time.Now().UTC().Truncate(time.Second)}
		if err := s.insertSite(ctx, site); err != nil {
			return store.Site{}, fmt.Errorf("add site %s: %w", domain, err)
		}
		return site, nil
	}
	return store.Site{}, fmt.Errorf("add site %s: no free site id after %d attempts", domain, attempts)
}

func (s *Store) insertSite(ctx context.Context, site store.Site) error {
	batch, err := s.conn.PrepareBatch(ctx, qSiteInsert)
	if err != nil {
		return err
	}
	defer batch.Close()
	if err := batch.Append(site.ID, site.Domain, site.CreatedAt); err != nil {
		return err
	}
	return batch.Send()
}

// SiteByDomain returns the site registered for domain, or store.ErrNotFound.
func (s *Store) SiteByDomain(ctx context.Context, domain string) (store.Site, error) {
	var site store.Site
	err := s.conn.QueryRow(ctx, qSiteByDomain, domain).Scan(&site.ID, &site.Domain, &site.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Site{}, fmt.Errorf("site %s: %w", domain, store.ErrNotFound)
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("site %s: %w", domain, err)
	}
	site.CreatedAt = site.CreatedAt.UTC()
	return site, nil
}

// Sites lists every site ordered by domain.
func (s *Store) Sites(ctx context.Context) ([]store.Site, error) {
	rows, err := s.conn.Query(ctx, qSites)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []store.Site
	for rows.Next() {
		var site store.Site
		if err := rows.Scan(&site.ID, &site.Domain, &site.CreatedAt); err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		site.CreatedAt = site.CreatedAt.UTC()
		out = append(out, site)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}
