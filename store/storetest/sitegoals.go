package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// SiteGoalsBackend keeps the goals added through the admin API.
type SiteGoalsBackend interface {
	PutGoal(ctx context.Context, g store.SiteGoal) error
	DeleteGoal(ctx context.Context, siteID uint32, id string) error
	Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error)
}

// RunSiteGoals checks that stored goals round-trip per site (props
// included, in order of name), that a put with a known id changes it and
// that a delete removes only its own site's goal.
func RunSiteGoals(t *testing.T, open func(t *testing.T) SiteGoalsBackend) {
	b := open(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	pro := store.SiteGoal{ID: "g1", SiteID: 1, Author: "ann@example.com", CreatedAt: at,
		Goal: store.Goal{Name: "Pro signup", Event: "Signup", Props: []store.Prop{{Key: "ab", Value: "b"}, {Key: "plan", Value: "pro"}}}}
	blog := store.SiteGoal{ID: "g2", SiteID: 1, Author: "bob@example.com", CreatedAt: at.Add(time.Minute),
		Goal: store.Goal{Name: "Blog", Page: "/blog/**"}}
	other := store.SiteGoal{ID: "g3", SiteID: 2, Author: "ann@example.com", CreatedAt: at,
		Goal: store.Goal{Name: "Other", Event: "Other"}}
	for _, g := range []store.SiteGoal{pro, blog, other} {
		if err := b.PutGoal(ctx, g); err != nil {
			t.Fatalf("PutGoal: %v", err)
		}
	}
	check := func(site uint32, want ...store.SiteGoal) {
		t.Helper()
		got, err := b.Goals(ctx, site)
		if err != nil {
			t.Fatalf("Goals: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("site %d's goals (-want +got):\n%s", site, diff)
		}
	}
	check(1, blog, pro) // by name
	pro.Props = pro.Props[1:]
	pro.Name = "Signup (pro)"
	if err := b.PutGoal(ctx, pro); err != nil {
		t.Fatalf("PutGoal: %v", err)
	}
	check(1, blog, pro)
	if err := b.DeleteGoal(ctx, 1, "g3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting another site's goal: %v, want ErrNotFound", err)
	}
	if err := b.DeleteGoal(ctx, 1, "g2"); err != nil {
		t.Fatalf("DeleteGoal: %v", err)
	}
	check(1, pro)
	if err := b.DeleteGoal(ctx, 1, "g2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting it again: %v, want ErrNotFound", err)
	}
	check(2, other)
}
