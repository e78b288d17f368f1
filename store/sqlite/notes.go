package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// PutAnnotation adds an annotation, or changes the one with its id.
func (s *Store) PutAnnotation(ctx context.Context, a store.Annotation) error {
	if _, err := s.db.ExecContext(ctx, s.query("annotation_put"), a.ID, a.SiteID, a.Day, a.Text, a.Author, a.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("put annotation: %w", err)
	}
	return nil
}

// DeleteAnnotation removes one annotation of a site; store.ErrNotFound if
// the site has none with that id.
func (s *Store) DeleteAnnotation(ctx context.Context, siteID uint32, id string) error {
	return s.deleteOne(ctx, "annotation_delete", siteID, id)
}

// Annotations returns a site's annotations by day.
func (s *Store) Annotations(ctx context.Context, siteID uint32) ([]store.Annotation, error) {
	rows, err := s.db.QueryContext(ctx, s.query("annotations"), siteID)
	if err != nil {
		return nil, fmt.Errorf("read annotations: %w", err)
	}
	defer rows.Close()
	var out []store.Annotation
	for rows.Next() {
		var a store.Annotation
		var created int64
		if err := rows.Scan(&a.ID, &a.SiteID, &a.Day, &a.Text, &a.Author, &created); err != nil {
			return nil, fmt.Errorf("read annotations: %w", err)
		}
		a.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read annotations: %w", err)
	}
	return out, nil
}

// PutSegment adds a segment, or changes the one with its id.
func (s *Store) PutSegment(ctx context.Context, g store.Segment) error {
	if _, err := s.db.ExecContext(ctx, s.query("segment_put"), g.ID, g.SiteID, g.Name, g.Filters, g.Author, g.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("put segment: %w", err)
	}
	return nil
}

// DeleteSegment removes one segment of a site; store.ErrNotFound if the
// site has none with that id.
func (s *Store) DeleteSegment(ctx context.Context, siteID uint32, id string) error {
	return s.deleteOne(ctx, "segment_delete", siteID, id)
}

// Segments returns a site's segments by name.
func (s *Store) Segments(ctx context.Context, siteID uint32) ([]store.Segment, error) {
	rows, err := s.db.QueryContext(ctx, s.query("segments"), siteID)
	if err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	defer rows.Close()
	var out []store.Segment
	for rows.Next() {
		var g store.Segment
		var created int64
		if err := rows.Scan(&g.ID, &g.SiteID, &g.Name, &g.Filters, &g.Author, &created); err != nil {
			return nil, fmt.Errorf("read segments: %w", err)
		}
		g.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	return out, nil
}

// deleteOne runs a delete query of a site's row by id; store.ErrNotFound
// when it deleted nothing.
func (s *Store) deleteOne(ctx context.Context, query string, siteID uint32, id string) error {
	res, err := s.db.ExecContext(ctx, s.query(query), siteID, id)
	if err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", query, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", query, store.ErrNotFound)
	}
	return nil
}
