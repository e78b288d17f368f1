package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// NotesBackend is what the notes suite exercises: annotations and saved
// segments.
type NotesBackend interface {
	PutAnnotation(ctx context.Context, a store.Annotation) error
	DeleteAnnotation(ctx context.Context, siteID uint32, id string) error
	Annotations(ctx context.Context, siteID uint32) ([]store.Annotation, error)
	PutSegment(ctx context.Context, g store.Segment) error
	DeleteSegment(ctx context.Context, siteID uint32, id string) error
	Segments(ctx context.Context, siteID uint32) ([]store.Segment, error)
}

// RunNotes checks that annotations and segments round-trip per site, in
// order, that a put with a known id changes it and that a delete removes
// only its own site's row.
func RunNotes(t *testing.T, open func(t *testing.T) NotesBackend) {
	b := open(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)

	t.Run("annotations", func(t *testing.T) {
		launch := store.Annotation{ID: "a1", SiteID: 1, Day: "2026-11-03", Text: "Launch", Author: "ann@example.com", CreatedAt: at}
		sale := store.Annotation{ID: "a2", SiteID: 1, Day: "2026-10-28", Text: "Autumn sale", Author: "bob@example.com", CreatedAt: at.Add(time.Minute)}
		other := store.Annotation{ID: "a3", SiteID: 2, Day: "2026-11-01", Text: "Other site", Author: "ann@example.com", CreatedAt: at}
		for _, a := range []store.Annotation{launch, sale, other} {
			if err := b.PutAnnotation(ctx, a); err != nil {
				t.Fatalf("PutAnnotation: %v", err)
			}
		}
		check := func(want ...store.Annotation) {
			t.Helper()
			got, err := b.Annotations(ctx, 1)
			if err != nil {
				t.Fatalf("Annotations: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("site 1's annotations (-want +got):\n%s", diff)
			}
		}
		check(sale, launch) // by day
		launch.Text, launch.Day = "Launch (v2)", "2026-10-01"
		if err := b.PutAnnotation(ctx, launch); err != nil {
			t.Fatalf("PutAnnotation: %v", err)
		}
		check(launch, sale)
		if err := b.DeleteAnnotation(ctx, 1, "a3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting another site's annotation: %v, want ErrNotFound", err)
		}
		if err := b.DeleteAnnotation(ctx, 1, "a1"); err != nil {
			t.Fatalf("DeleteAnnotation: %v", err)
		}
		check(sale)
		if err := b.DeleteAnnotation(ctx, 1, "a1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting it again: %v, want ErrNotFound", err)
		}
		if got, err := b.Annotations(ctx, 2); err != nil || len(got) != 1 || got[0] != other {
			t.Errorf("site 2's annotations %+v, %v; want %+v", got, err, other)
		}
	})

	t.Run("segments", func(t *testing.T) {
		mobile := store.Segment{ID: "s1", SiteID: 1, Name: "Mobile Germany", Filters: "country==DE;device==mobile", Author: "ann@example.com", CreatedAt: at}
		ads := store.Segment{ID: "s2", SiteID: 1, Name: "Ads", Filters: "source==google;utm_medium==cpc", Author: "bob@example.com", CreatedAt: at}
		other := store.Segment{ID: "s3", SiteID: 2, Name: "Other", Filters: "page==/", Author: "ann@example.com", CreatedAt: at}
		for _, g := range []store.Segment{mobile, ads, other} {
			if err := b.PutSegment(ctx, g); err != nil {
				t.Fatalf("PutSegment: %v", err)
			}
		}
		check := func(want ...store.Segment) {
			t.Helper()
			got, err := b.Segments(ctx, 1)
			if err != nil {
				t.Fatalf("Segments: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("site 1's segments (-want +got):\n%s", diff)
			}
		}
		check(ads, mobile) // by name
		mobile.Filters = "country==DE;device==tablet"
		if err := b.PutSegment(ctx, mobile); err != nil {
			t.Fatalf("PutSegment: %v", err)
		}
		check(ads, mobile)
		if err := b.DeleteSegment(ctx, 1, "s3"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting another site's segment: %v, want ErrNotFound", err)
		}
		if err := b.DeleteSegment(ctx, 1, "s2"); err != nil {
			t.Fatalf("DeleteSegment: %v", err)
		}
		check(mobile)
		if got, err := b.Segments(ctx, 2); err != nil || len(got) != 1 || got[0] != other {
			t.Errorf("site 2's segments %+v, %v; want %+v", got, err, other)
		}
	})
}
