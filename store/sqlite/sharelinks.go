package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// AddShareLink stores a new share link.
func (s *Store) AddShareLink(ctx context.Context, l store.ShareLink) error {
	origins, err := json.Marshal(nonNil(l.FrameAncestors))
	if err != nil {
		return fmt.Errorf("add share link: %w", err)
	}
	var expires int64
	if !l.ExpiresAt.IsZero() {
		expires = l.ExpiresAt.Unix()
	}
	if _, err := s.db.ExecContext(ctx, s.query("share_link_insert"), l.ID, l.SecretHash, l.SiteID, l.Name, l.PasswordHash,
		boolInt(l.Embed), string(origins), l.CreatedBy, l.CreatedAt.Unix(), expires); err != nil {
		return fmt.Errorf("add share link: %w", err)
	}
	return nil
}

// ShareLink returns a share link, revoked or not, or store.ErrNotFound.
func (s *Store) ShareLink(ctx context.Context, id string) (store.ShareLink, error) {
	rows, err := s.db.QueryContext(ctx, s.query("share_link_by_id"), id)
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
	rows, err := s.db.QueryContext(ctx, s.query("share_links"))
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
	res, err := s.db.ExecContext(ctx, s.query("share_link_revoke"), max(at.Unix(), 1), id)
	if err != nil {
		return fmt.Errorf("revoke share link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke share link: %w", err)
	}
	if n == 0 {
		// Already revoked, or no such link.
		if _, err := s.ShareLink(ctx, id); err != nil {
			return fmt.Errorf("revoke share link: %w", err)
		}
	}
	return nil
}

func scanShareLinks(rows *sql.Rows) ([]store.ShareLink, error) {
	defer rows.Close()
	var out []store.ShareLink
	for rows.Next() {
		var (
			l                           store.ShareLink
			embed                       int
			origins                     string
			created, expires, revokedAt int64
		)
		if err := rows.Scan(&l.ID, &l.SecretHash, &l.SiteID, &l.Name, &l.PasswordHash, &embed, &origins, &l.CreatedBy,
			&created, &expires, &revokedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(origins), &l.FrameAncestors); err != nil {
			return nil, fmt.Errorf("frame_ancestors: %w", err)
		}
		if len(l.FrameAncestors) == 0 {
			l.FrameAncestors = nil
		}
		l.Embed = embed != 0
		l.CreatedAt = time.Unix(created, 0).UTC()
		if expires > 0 {
			l.ExpiresAt = time.Unix(expires, 0).UTC()
		}
		if revokedAt > 0 {
			l.RevokedAt = time.Unix(revokedAt, 0).UTC()
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
