package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

var (
	qShareLinkInsert = mustQuery("share_link_insert")
	qShareLinkByID   = mustQuery("share_link_by_id")
	qShareLinks      = mustQuery("share_links")
)

// AddShareLink stores a new share link.
func (s *Store) AddShareLink(ctx context.Context, l store.ShareLink) error {
	if err := s.putShareLink(ctx, l, accessVersion()); err != nil {
		return fmt.Errorf("add share link: %w", err)
	}
	return nil
}

func (s *Store) putShareLink(ctx context.Context, l store.ShareLink, version uint64) error {
	origins := l.FrameAncestors
	if origins == nil {
		origins = []string{}
	}
	return s.insertOne(ctx, qShareLinkInsert, l.ID, l.SecretHash, l.SiteID, l.Name, l.PasswordHash, boolUInt8(l.Embed),
		origins, l.CreatedBy, l.CreatedAt.UTC(), epochOr(l.ExpiresAt), boolUInt8(l.Revoked()), epochOr(l.RevokedAt), version)
}

// ShareLink returns a share link, revoked or not, or store.ErrNotFound.
func (s *Store) ShareLink(ctx context.Context, id string) (store.ShareLink, error) {
	rows, err := s.conn.Query(ctx, qShareLinkByID, id)
	if err != nil {
		return store.ShareLink{}, fmt.Errorf("share link %s: %w", id, err)
	}
	links, err := scanShareLinks(rows)
	if err != nil {
		return store.ShareLink{}, fmt.Errorf("share link %s: %w", id, err)
	}
	if len(links) == 0 {
		return store.ShareLink{}, fmt.Errorf("share link %s: %w", id, store.ErrNotFound)
	}
	return links[0], nil
}

// ShareLinks lists every share link, revoked ones too, oldest first.
func (s *Store) ShareLinks(ctx context.Context) ([]store.ShareLink, error) {
	rows, err := s.conn.Query(ctx, qShareLinks)
	if err != nil {
		return nil, fmt.Errorf("list share links: %w", err)
	}
	links, err := scanShareLinks(rows)
	if err != nil {
		return nil, fmt.Errorf("list share links: %w", err)
	}
	return links, nil
}

// RevokeShareLink revokes a link at at, or returns store.ErrNotFound.
// Revoking a revoked link keeps the first revocation time.
func (s *Store) RevokeShareLink(ctx context.Context, id string, at time.Time) error {
	l, err := s.ShareLink(ctx, id)
	if err != nil {
		return fmt.Errorf("revoke share link: %w", err)
	}
	if l.Revoked() {
		return nil
	}
	l.RevokedAt = at.UTC()
	if err := s.putShareLink(ctx, l, accessTombstone()); err != nil {
		return fmt.Errorf("revoke share link: %w", err)
	}
	return nil
}

func scanShareLinks(rows driver.Rows) ([]store.ShareLink, error) {
	defer rows.Close()
	var out []store.ShareLink
	for rows.Next() {
		var (
			l                  store.ShareLink
			embed, revoked     uint8
			expires, revokedAt time.Time
		)
		if err := rows.Scan(&l.ID, &l.SecretHash, &l.SiteID, &l.Name, &l.PasswordHash, &embed, &l.FrameAncestors,
			&l.CreatedBy, &l.CreatedAt, &expires, &revoked, &revokedAt); err != nil {
			return nil, err
		}
		if len(l.FrameAncestors) == 0 {
			l.FrameAncestors = nil
		}
		l.Embed = embed != 0
		l.CreatedAt = l.CreatedAt.UTC()
		l.ExpiresAt = zeroIfEpoch(expires)
		if revoked != 0 {
			l.RevokedAt = revokedAt.UTC()
			if l.RevokedAt.Unix() <= 0 {
				l.RevokedAt = time.Unix(1, 0).UTC() // revoked at an unknown time is still revoked
			}
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
