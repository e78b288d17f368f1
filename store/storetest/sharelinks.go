package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// ShareLinkBackend is what the share link suite exercises.
type ShareLinkBackend interface {
	AddShareLink(ctx context.Context, l store.ShareLink) error
	ShareLink(ctx context.Context, id string) (store.ShareLink, error)
	ShareLinks(ctx context.Context) ([]store.ShareLink, error)
	RevokeShareLink(ctx context.Context, id string, at time.Time) error
}

// RunShareLinks checks that share links round-trip with every field, are
// listed oldest first, and that a revocation sticks (a second one keeps the
// first time) and an unknown id is store.ErrNotFound. open must return a
// store without share links.
func RunShareLinks(t *testing.T, open func(t *testing.T) ShareLinkBackend) {
	b := open(t)
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	plain := store.ShareLink{
		ID: "0123456789abcdef", SecretHash: "aa", SiteID: 42, Name: "board",
		CreatedBy: "user:1111111111111111", CreatedAt: at,
	}
	embed := store.ShareLink{
		ID: "fedcba9876543210", SecretHash: "bb", SiteID: 43, Name: "blog widget",
		PasswordHash: "argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Embed: true,
		FrameAncestors: []string{"https://blog.example.com", "http://127.0.0.1:8081"},
		CreatedBy:      "token:2222222222222222", CreatedAt: at.Add(time.Hour), ExpiresAt: at.AddDate(0, 1, 0),
	}
	for _, l := range []store.ShareLink{embed, plain} {
		if err := b.AddShareLink(ctx, l); err != nil {
			t.Fatalf("AddShareLink %s: %v", l.ID, err)
		}
	}
	got, err := b.ShareLink(ctx, embed.ID)
	if err != nil {
		t.Fatalf("ShareLink: %v", err)
	}
	if diff := cmp.Diff(embed, got); diff != "" {
		t.Errorf("ShareLink (-want +got):\n%s", diff)
	}
	list, err := b.ShareLinks(ctx)
	if err != nil {
		t.Fatalf("ShareLinks: %v", err)
	}
	if diff := cmp.Diff([]store.ShareLink{plain, embed}, list); diff != "" {
		t.Errorf("ShareLinks (-want +got):\n%s", diff)
	}
	if _, err := b.ShareLink(ctx, "00000000000000aa"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ShareLink of an unknown id: got %v, want store.ErrNotFound", err)
	}
	if err := b.RevokeShareLink(ctx, "00000000000000aa", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeShareLink of an unknown id: got %v, want store.ErrNotFound", err)
	}
	revoked := at.Add(2 * time.Hour)
	if err := b.RevokeShareLink(ctx, plain.ID, revoked); err != nil {
		t.Fatalf("RevokeShareLink: %v", err)
	}
	if err := b.RevokeShareLink(ctx, plain.ID, revoked.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeShareLink again: %v", err)
	}
	got, err = b.ShareLink(ctx, plain.ID)
	if err != nil {
		t.Fatalf("ShareLink after revoking: %v", err)
	}
	if !got.RevokedAt.Equal(revoked) {
		t.Errorf("revoked at %v, want the first revocation %v", got.RevokedAt, revoked)
	}
	if list, err := b.ShareLinks(ctx); err != nil || len(list) != 2 || !list[0].Revoked() || list[1].Revoked() {
		t.Errorf("ShareLinks after revoking one: %+v, %v; want both, the first revoked", list, err)
	}
}
