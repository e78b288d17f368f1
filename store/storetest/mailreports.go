package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// ReportBackend is what the e-mail report suite exercises.
type ReportBackend interface {
	Backend
	AddReportKey(ctx context.Context, k store.ReportKey) error
	ReportKeys(ctx context.Context) ([]store.ReportKey, error)
	AddReportSend(ctx context.Context, r store.ReportSend) error
	ReportSends(ctx context.Context, siteID uint32, schedule, from string) ([]store.ReportSend, error)
	AddReportUnsubscribe(ctx context.Context, u store.ReportUnsubscribe) error
	ReportUnsubscribes(ctx context.Context, siteID uint32) ([]store.ReportUnsubscribe, error)
}

// RunReports checks the e-mail reports' keys, sends and unsubscribes: each
// read back as written, a send or unsubscribe recorded twice seen once.
func RunReports(t *testing.T, open func(t *testing.T) ReportBackend) {
	b := open(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)

	key := store.ReportKey{ID: fmt.Sprintf("%08x", rand.Uint32()), Secret: bytes.Repeat([]byte{0, 0xff, 7, '\''}, 8), Created: at}
	if err := b.AddReportKey(ctx, key); err != nil {
		t.Fatalf("AddReportKey: %v", err)
	}
	keys, err := b.ReportKeys(ctx)
	if err != nil {
		t.Fatalf("ReportKeys: %v", err)
	}
	found := false
	for _, k := range keys {
		if k.ID == key.ID {
			found = true
			if diff := cmp.Diff(key, k); diff != "" {
				t.Errorf("report key (-want +got):\n%s", diff)
			}
		}
	}
	if !found {
		t.Errorf("ReportKeys = %v, lacks %v", keys, key)
	}

	site := addSite(t, b).ID
	other := addSite(t, b).ID
	a, c := store.RecipientHash("Ana@Example.com"), store.RecipientHash("cy@example.org")
	if a != store.RecipientHash(" ana@example.com") || len(a) != 32 {
		t.Errorf("RecipientHash is %q, want 32 hex characters, the same whatever the case", a)
	}
	for _, r := range []store.ReportSend{
		{SiteID: site, Schedule: "weekly", From: "2026-02-23", Recipient: c, SentAt: at},
		{SiteID: site, Schedule: "weekly", From: "2026-02-23", Recipient: a, SentAt: at},
		{SiteID: site, Schedule: "weekly", From: "2026-02-23", Recipient: a, SentAt: at.Add(time.Hour)}, // a retry's record
		{SiteID: site, Schedule: "monthly", From: "2026-02-01", Recipient: a, SentAt: at},
		{SiteID: site, Schedule: "weekly", From: "2026-02-16", Recipient: a, SentAt: at},
		{SiteID: other, Schedule: "weekly", From: "2026-02-23", Recipient: a, SentAt: at},
	} {
		if err := b.AddReportSend(ctx, r); err != nil {
			t.Fatalf("AddReportSend: %v", err)
		}
	}
	sends, err := b.ReportSends(ctx, site, "weekly", "2026-02-23")
	if err != nil {
		t.Fatalf("ReportSends: %v", err)
	}
	want := []store.ReportSend{
		{SiteID: site, Schedule: "weekly", From: "2026-02-23", Recipient: a, SentAt: at},
		{SiteID: site, Schedule: "weekly", From: "2026-02-23", Recipient: c, SentAt: at},
	}
	if a > c {
		want[0], want[1] = want[1], want[0]
	}
	if diff := cmp.Diff(want, sends); diff != "" {
		t.Errorf("report sends (-want +got):\n%s", diff)
	}

	for _, u := range []store.ReportUnsubscribe{
		{SiteID: site, Recipient: a, At: at},
		{SiteID: site, Recipient: a, At: at.Add(time.Minute)},
		{SiteID: other, Recipient: c, At: at},
	} {
		if err := b.AddReportUnsubscribe(ctx, u); err != nil {
			t.Fatalf("AddReportUnsubscribe: %v", err)
		}
	}
	unsub, err := b.ReportUnsubscribes(ctx, site)
	if err != nil {
		t.Fatalf("ReportUnsubscribes: %v", err)
	}
	if diff := cmp.Diff([]store.ReportUnsubscribe{{SiteID: site, Recipient: a, At: at}}, unsub); diff != "" {
		t.Errorf("report unsubscribes (-want +got):\n%s", diff)
	}
}
