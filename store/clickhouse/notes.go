package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qAnnotationPut = mustQuery("annotation_put")
	qAnnotations   = mustQuery("annotations")
	qSegmentPut    = mustQuery("segment_put")
	qSegments      = mustQuery("segments")
)

// PutAnnotation adds an annotation, or changes the one with its id.
func (s *Store) PutAnnotation(ctx context.Context, a store.Annotation) error {
	if err := s.putAnnotation(ctx, a, accessVersion()); err != nil {
		return fmt.Errorf("put annotation: %w", err)
	}
	return nil
}

// DeleteAnnotation removes one annotation of a site; store.ErrNotFound if
// the site has none with that id.
func (s *Store) DeleteAnnotation(ctx context.Context, siteID uint32, id string) error {
	all, err := s.Annotations(ctx, siteID)
	if err != nil {
		return fmt.Errorf("delete annotation: %w", err)
	}
	i := slices.IndexFunc(all, func(a store.Annotation) bool { return a.ID == id })
	if i < 0 {
		return fmt.Errorf("delete annotation: %w", store.ErrNotFound)
	}
	if err := s.putAnnotation(ctx, all[i], accessTombstone()); err != nil {
		return fmt.Errorf("delete annotation: %w", err)
	}
	return nil
}

func (s *Store) putAnnotation(ctx context.Context, a store.Annotation, version uint64) error {
	day, err := time.Parse(time.DateOnly, a.Day)
	if err != nil {
		return err
	}
	deleted := uint8(version >> 63)
	return s.insertOne(ctx, qAnnotationPut, a.ID, a.SiteID, day, a.Text, a.Author, a.CreatedAt.UTC(), deleted, version)
}

// Annotations returns a site's annotations by day.
func (s *Store) Annotations(ctx context.Context, siteID uint32) ([]store.Annotation, error) {
	rows, err := s.conn.Query(ctx, qAnnotations, siteID)
	if err != nil {
		return nil, fmt.Errorf("read annotations: %w", err)
	}
	defer rows.Close()
	var out []store.Annotation
	for rows.Next() {
		var a store.Annotation
		if err := rows.Scan(&a.ID, &a.SiteID, &a.Day, &a.Text, &a.Author, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("read annotations: %w", err)
		}
		a.CreatedAt = a.CreatedAt.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read annotations: %w", err)
	}
	return out, nil
}

// PutSegment adds a segment, or changes the one with its id.
func (s *Store) PutSegment(ctx context.Context, g store.Segment) error {
	if err := s.putSegment(ctx, g, accessVersion()); err != nil {
		return fmt.Errorf("put segment: %w", err)
	}
	return nil
}

// DeleteSegment removes one segment of a site; store.ErrNotFound if the
// site has none with that id.
func (s *Store) DeleteSegment(ctx context.Context, siteID uint32, id string) error {
	all, err := s.Segments(ctx, siteID)
	if err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	i := slices.IndexFunc(all, func(g store.Segment) bool { return g.ID == id })
	if i < 0 {
		return fmt.Errorf("delete segment: %w", store.ErrNotFound)
	}
	if err := s.putSegment(ctx, all[i], accessTombstone()); err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	return nil
}

func (s *Store) putSegment(ctx context.Context, g store.Segment, version uint64) error {
	deleted := uint8(version >> 63)
	return s.insertOne(ctx, qSegmentPut, g.ID, g.SiteID, g.Name, g.Filters, g.Author, g.CreatedAt.UTC(), deleted, version)
}

// Segments returns a site's segments by name.
func (s *Store) Segments(ctx context.Context, siteID uint32) ([]store.Segment, error) {
	rows, err := s.conn.Query(ctx, qSegments, siteID)
	if err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	defer rows.Close()
	var out []store.Segment
	for rows.Next() {
		var g store.Segment
		if err := rows.Scan(&g.ID, &g.SiteID, &g.Name, &g.Filters, &g.Author, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("read segments: %w", err)
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read segments: %w", err)
	}
	return out, nil
}
