package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// ConsentBackend is what the consent suite exercises.
type ConsentBackend interface {
	Backend
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
	ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]store.ConsentRecord, error)
	ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]store.ConsentRecord, error)
	Withdrawals(ctx context.Context, since time.Time) ([]store.Withdrawal, error)
	AppendConsentUpdate(ctx context.Context, siteID uint32, c store.ConsentChange) error
	ConsentChanges(ctx context.Context, since time.Time) ([]store.ConsentChange, error)
	ConsentKeys(ctx context.Context) ([]store.ConsentKey, error)
	AddConsentKey(ctx context.Context, k store.ConsentKey) error
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

func appendRecords(t *testing.T, b ConsentBackend, chain *chain, recs ...store.ConsentRecord) []store.ConsentRecord {
	t.Helper()
	out := make([]store.ConsentRecord, len(recs))
	for i := range recs {
		r := recs[i]
		if err := chain.Append(&r, func(r *store.ConsentRecord) error { return b.AppendConsent(context.Background(), *r) }); err != nil {
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
	chain := newChain()
	id := uuid.New()
	want := appendRecords(t, b, chain,
		store.ConsentRecord{SiteID: site, ConsentID: id, Time: at, Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 3,
			BannerHash: "ab12", Language: "de", GPC: false, DNT: true, SnippetVersion: "1.0.0", Signal: store.SignalBanner},
		// A record from before signals were kept (format 1) in the same chain.
		store.ConsentRecord{SiteID: site, ConsentID: uuid.New(), Time: at.Add(30 * time.Second), Action: store.ConsentRejectAll, PolicyVersion: 3, Language: "en"},
		store.ConsentRecord{SiteID: site, ConsentID: id, Time: at.Add(2 * time.Minute), Action: store.ConsentWithdraw, PolicyVersion: 3, Language: "de", GPC: true,
			Signal: store.SignalGoogleConsentMode},
	)
	appendRecords(t, b, chain, store.ConsentRecord{SiteID: other, ConsentID: uuid.New(), Time: at, Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 1})

	got, err := b.ConsentRecords(ctx, site, at.Add(-time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatalf("ConsentRecords: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ledger round trip (-want +got):\n%s", diff)
	}
	if br := store.VerifyChain(got); br != nil {
		t.Errorf("the chain read back is broken: %v", br)
	}
	hist, err := b.ConsentHistory(ctx, id)
	if err != nil {
		t.Fatalf("ConsentHistory: %v", err)
	}
	if diff := cmp.Diff([]store.ConsentRecord{want[0], want[2]}, hist); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func testWithdrawals(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	at := time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC)
	early, late := uuid.New(), uuid.New()
	chain := newChain()
	appendRecords(t, b, chain,
		store.ConsentRecord{SiteID: site, ConsentID: early, Time: at, Action: store.ConsentWithdraw, PolicyVersion: 1},
		store.ConsentRecord{SiteID: site, ConsentID: uuid.New(), Time: at.Add(time.Minute), Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 1},
		store.ConsentRecord{SiteID: site, ConsentID: late, Time: at.Add(2 * time.Minute), Action: store.ConsentWithdraw, PolicyVersion: 1},
	)
	got, err := b.Withdrawals(ctx, at.Add(time.Second))
	if err != nil {
		t.Fatalf("Withdrawals: %v", err)
	}
	var mine []store.Withdrawal
	for _, w := range got {
		if w.ConsentID == early || w.ConsentID == late {
			mine = append(mine, w)
		}
	}
	want := []store.Withdrawal{{ConsentID: late, Time: at.Add(2 * time.Minute)}}
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
	chain := newChain()
	appendRecords(t, b, chain,
		store.ConsentRecord{SiteID: site, ConsentID: early, Time: at, Action: store.ConsentWithdraw, PolicyVersion: 1},
		store.ConsentRecord{SiteID: site, ConsentID: updated, Time: at.Add(time.Minute), Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 1},
		store.ConsentRecord{SiteID: site, ConsentID: late, Time: at.Add(2 * time.Minute), Action: store.ConsentWithdraw, PolicyVersion: 1},
	)
	update := store.ConsentChange{ConsentID: updated, Time: at.Add(90 * time.Second), Granted: store.ConsentAnalytics}
	if err := b.AppendConsentUpdate(ctx, site, update); err != nil {
		t.Fatalf("AppendConsentUpdate: %v", err)
	}
	if err := b.AppendConsentUpdate(ctx, site, store.ConsentChange{ConsentID: early, Time: at, Granted: store.ConsentAll}); err != nil {
		t.Fatalf("AppendConsentUpdate: %v", err)
	}
	got, err := b.ConsentChanges(ctx, at.Add(time.Second))
	if err != nil {
		t.Fatalf("ConsentChanges: %v", err)
	}
	var mine []store.ConsentChange
	for _, c := range got {
		if c.ConsentID == early || c.ConsentID == late || c.ConsentID == updated {
			mine = append(mine, c)
		}
	}
	want := []store.ConsentChange{update, {ConsentID: late, Time: at.Add(2 * time.Minute), Withdrawn: true}}
	sortChanges := cmpopts.SortSlices(func(a, b store.ConsentChange) bool { return a.Time.Before(b.Time) })
	if diff := cmp.Diff(want, mine, sortChanges); diff != "" {
		t.Errorf("changes since (-want +got):\n%s", diff)
	}
}

func testKeys(t *testing.T, b ConsentBackend) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	k1, k2 := newKey(t, now.Add(-time.Hour)), newKey(t, now)
	for _, k := range []store.ConsentKey{k1, k2} {
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
	byID := map[string]store.ConsentKey{}
	for _, k := range got {
		byID[k.ID] = k
	}
	k1.Retired = true
	for _, want := range []store.ConsentKey{k1, k2} {
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

// chain links ledger records into one chain per site as the collector's
// consent.Chain does, so that the suite needs nothing from collector/.
type chain struct {
	id    uuid.UUID
	heads map[uint32]store.ConsentRecord // latest record of each site
}

func newChain() *chain { return &chain{id: uuid.New(), heads: map[uint32]store.ConsentRecord{}} }

// Append links r as its site's next record and persists it.
func (c *chain) Append(r *store.ConsentRecord, persist func(*store.ConsentRecord) error) error {
	prev := c.heads[r.SiteID]
	r.ChainID, r.Seq, r.Time = c.id, prev.Seq+1, r.Time.UTC().Truncate(time.Second)
	r.Seal(prev.Hash)
	if err := persist(r); err != nil {
		return err
	}
	c.heads[r.SiteID] = *r
	return nil
}

// newKey returns a random signing key created at at.
func newKey(t *testing.T, at time.Time) store.ConsentKey {
	t.Helper()
	b := make([]byte, 4+32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return store.ConsentKey{ID: hex.EncodeToString(b[:4]), Secret: b[4:], Created: at.UTC()}
}
