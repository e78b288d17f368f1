package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/store"
)

// ConsentBackend is what the consent suite exercises.
type ConsentBackend interface {
	Backend
	AppendConsent(ctx context.Context, r consent.Record) error
	ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]consent.Record, error)
	ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]consent.Record, error)
	Withdrawals(ctx context.Context, since time.Time) ([]consent.Withdrawal, error)
	AppendConsentUpdate(ctx context.Context, siteID uint32, c consent.Change) error
	ConsentChanges(ctx context.Context, since time.Time) ([]consent.Change, error)
	ConsentKeys(ctx context.Context) ([]consent.Key, error)
	AddConsentKey(ctx context.Context, k consent.Key) error
	RetireConsentKey(ctx context.Context, kid string) error
	EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error)
	EraseEventsByConsent(ctx context.Context, consentID uuid.UUID) (int64, error)
}

// RunConsent runs the consent storage suite.
func RunConsent(t *testing.T, open func(t *testing.T) ConsentBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b ConsentBackend)
	}{
		{"LedgerRoundTripKeepsTheChain", testLedgerRoundTrip},
		{"Withdrawals", testWithdrawals},
		{"Changes", testConsentChanges},
		{"Keys", testKeys},
		{"EraseByConsent", testEraseByConsent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func appendRecords(t *testing.T, b ConsentBackend, chain *consent.Chain, recs ...consent.Record) []consent.Record {
	t.Helper()
	out := make([]consent.Record, len(recs))
	for i := range recs {
		r := recs[i]
		if err := chain.Append(&r, func(r *consent.Record) error { return b.AppendConsent(context.Background(), *r) }); err != nil {
			t.Fatalf("append: %v", err)
		}
		out[i] = r
	}
	return out
}

func testLedgerRoundTrip(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	other := addSite(t, b).ID
	at := time.Date(2026, 4, 30, 23, 59, 0, 0, time.UTC) // the chain crosses a month (partition)
	chain := consent.NewChain(uuid.New())
	id := uuid.New()
	want := appendRecords(t, b, chain,
		consent.Record{SiteID: site, ConsentID: id, Time: at, Action: consent.AcceptAll, Granted: consent.All, PolicyVersion: 3,
			BannerHash: "ab12", Language: "de", GPC: false, DNT: true, SnippetVersion: "1.0.0"},
		consent.Record{SiteID: site, ConsentID: uuid.New(), Time: at.Add(30 * time.Second), Action: consent.RejectAll, PolicyVersion: 3, Language: "en"},
		consent.Record{SiteID: site, ConsentID: id, Time: at.Add(2 * time.Minute), Action: consent.Withdraw, PolicyVersion: 3, Language: "de", GPC: true},
	)
	appendRecords(t, b, chain, consent.Record{SiteID: other, ConsentID: uuid.New(), Time: at, Action: consent.AcceptAll, Granted: consent.All, PolicyVersion: 1})

	got, err := b.ConsentRecords(ctx, site, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatalf("ConsentRecords: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ledger round trip (-want +got):\n%s", diff)
	}
	if br := consent.VerifyChain(got); br != nil {
		t.Errorf("the chain read back is broken: %v", br)
	}
	hist, err := b.ConsentHistory(ctx, id)
	if err != nil {
		t.Fatalf("ConsentHistory: %v", err)
	}
	if diff := cmp.Diff([]consent.Record{want[0], want[2]}, hist); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func testWithdrawals(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	at := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	early, late := uuid.New(), uuid.New()
	chain := consent.NewChain(uuid.New())
	appendRecords(t, b, chain,
		consent.Record{SiteID: site, ConsentID: early, Time: at, Action: consent.Withdraw, PolicyVersion: 1},
		consent.Record{SiteID: site, ConsentID: uuid.New(), Time: at.Add(time.Minute), Action: consent.AcceptAll, Granted: consent.All, PolicyVersion: 1},
		consent.Record{SiteID: site, ConsentID: late, Time: at.Add(2 * time.Minute), Action: consent.Withdraw, PolicyVersion: 1},
	)
	got, err := b.Withdrawals(ctx, at.Add(time.Second))
	if err != nil {
		t.Fatalf("Withdrawals: %v", err)
	}
	var mine []consent.Withdrawal
	for _, w := range got {
		if w.ConsentID == early || w.ConsentID == late {
			mine = append(mine, w)
		}
	}
	want := []consent.Withdrawal{{ConsentID: late, Time: at.Add(2 * time.Minute)}}
	if diff := cmp.Diff(want, mine); diff != "" {
		t.Errorf("withdrawals since (-want +got):\n%s", diff)
	}
}

// Withdrawals in the ledger and recorded updates are changes; first
// decisions are not.
func testConsentChanges(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	at := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	early, late, updated := uuid.New(), uuid.New(), uuid.New()
	chain := consent.NewChain(uuid.New())
	appendRecords(t, b, chain,
		consent.Record{SiteID: site, ConsentID: early, Time: at, Action: consent.Withdraw, PolicyVersion: 1},
		consent.Record{SiteID: site, ConsentID: updated, Time: at.Add(time.Minute), Action: consent.AcceptAll, Granted: consent.All, PolicyVersion: 1},
		consent.Record{SiteID: site, ConsentID: late, Time: at.Add(2 * time.Minute), Action: consent.Withdraw, PolicyVersion: 1},
	)
	update := consent.Change{ConsentID: updated, Time: at.Add(90 * time.Second), Granted: consent.Analytics}
	if err := b.AppendConsentUpdate(ctx, site, update); err != nil {
		t.Fatalf("AppendConsentUpdate: %v", err)
	}
	if err := b.AppendConsentUpdate(ctx, site, consent.Change{ConsentID: early, Time: at, Granted: consent.All}); err != nil {
		t.Fatalf("AppendConsentUpdate: %v", err)
	}
	got, err := b.ConsentChanges(ctx, at.Add(time.Second))
	if err != nil {
		t.Fatalf("ConsentChanges: %v", err)
	}
	var mine []consent.Change
	for _, c := range got {
		if c.ConsentID == early || c.ConsentID == late || c.ConsentID == updated {
			mine = append(mine, c)
		}
	}
	want := []consent.Change{update, {ConsentID: late, Time: at.Add(2 * time.Minute), Withdrawn: true}}
	sortChanges := cmpopts.SortSlices(func(a, b consent.Change) bool { return a.Time.Before(b.Time) })
	if diff := cmp.Diff(want, mine, sortChanges); diff != "" {
		t.Errorf("changes since (-want +got):\n%s", diff)
	}
}

func testKeys(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	k1, err := consent.NewKey(now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := consent.NewKey(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []consent.Key{k1, k2} {
		if err := b.AddConsentKey(ctx, k); err != nil {
			t.Fatalf("AddConsentKey: %v", err)
		}
	}
	if err := b.RetireConsentKey(ctx, k1.ID); err != nil {
		t.Fatalf("RetireConsentKey: %v", err)
	}
	if err := b.RetireConsentKey(ctx, "ffffffff"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retiring an unknown key: got %v, want ErrNotFound", err)
	}
	got, err := b.ConsentKeys(ctx)
	if err != nil {
		t.Fatalf("ConsentKeys: %v", err)
	}
	byID := map[string]consent.Key{}
	for _, k := range got {
		byID[k.ID] = k
	}
	k1.Retired = true
	for _, want := range []consent.Key{k1, k2} {
		if diff := cmp.Diff(want, byID[want.ID], cmpopts.EquateApproxTime(time.Second)); diff != "" {
			t.Errorf("key %s (-want +got):\n%s", want.ID, diff)
		}
	}
}

func testEraseByConsent(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	at := time.Date(2026, 9, 9, 9, 0, 0, 0, time.UTC)
	gone, kept := uuid.New(), uuid.New()
	var events []store.Event
	for i := range 6 {
		e := fullEvent(site, at.Add(time.Duration(i)*time.Minute))
		e.ConsentID = gone
		if i%3 == 0 {
			e.ConsentID = kept
		}
		events = append(events, e)
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	mine, err := b.EventsByConsent(ctx, gone)
	if err != nil {
		t.Fatalf("EventsByConsent: %v", err)
	}
	if len(mine) != 4 {
		t.Fatalf("EventsByConsent found %d, want 4", len(mine))
	}
	n, err := b.EraseEventsByConsent(ctx, gone)
	if err != nil {
		t.Fatalf("EraseEventsByConsent: %v", err)
	}
	if n != 4 {
		t.Errorf("erased %d, want 4", n)
	}
	if left, err := b.EventsByConsent(ctx, gone); err != nil || len(left) != 0 {
		t.Errorf("after erasure: %d events left (%v), want 0", len(left), err)
	}
	others, err := b.EventsByConsent(ctx, kept)
	if err != nil || len(others) != 2 {
		t.Errorf("another consent's events: %d (%v), want 2 untouched", len(others), err)
	}
	if n, err := b.EraseEventsByConsent(ctx, gone); err != nil || n != 0 {
		t.Errorf("erasing again: %d, %v; want 0, nil", n, err)
	}
}
