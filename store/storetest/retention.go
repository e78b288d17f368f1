package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// RetentionBackend is what the retention suite exercises.
type RetentionBackend interface {
	ConsentBackend
	ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error)
	ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error)
	Visits(ctx context.Context, q store.RollupQuery) ([]store.Visit, error)
}

// RunRetention checks each data class against its own limit. open must
// return a store of its own: retention acts on every site.
func RunRetention(t *testing.T, open func(t *testing.T) RetentionBackend) {
	b := open(t)
	ctx := context.Background()
	site := addSite(t, b).ID
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	plan := store.RetentionPlan{
		EventsBefore: now.AddDate(0, -13, 0), // 2025-10-15 12:00, mid-month: drops whole months and deletes part of one
		IPBefore:     now.AddDate(0, 0, -30),
		LedgerBefore: now.AddDate(-5, 0, 0),
	}
	ages := []time.Time{
		now.AddDate(-2, 0, 0),             // gone
		plan.EventsBefore.Add(-time.Hour), // gone: same month as the cutoff
		plan.EventsBefore.Add(time.Hour),  // kept, IP cleared
		now.AddDate(0, 0, -31),            // kept, IP cleared
		now.AddDate(0, 0, -29),            // kept with IP
		now.Add(-time.Hour),               // kept with IP
	}
	var events []store.Event
	for i, at := range ages {
		e := fullEvent(site, at)
		e.VisitorKey, e.SessionID = e.VisitorKey+uint64(i), e.SessionID+uint64(i)
		e.IP = "203.0.113.9"
		e.Type, e.Bot, e.BotReason = store.Pageview, false, "" // a visit of its own
		events = append(events, e)
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	// Each event's day aggregated: a visit row each, holding its visitor
	// key, which must go when its event does.
	for _, at := range ages {
		day := at.Truncate(24 * time.Hour)
		if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: day, To: day.AddDate(0, 0, 1), Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	visits := func() []store.Visit {
		got, err := b.Visits(ctx, store.RollupQuery{SiteID: site, Granularity: store.Daily, From: now.AddDate(-3, 0, 0), To: now.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if n := len(visits()); n != len(ages) {
		t.Fatalf("%d visit rows before retention, want %d", n, len(ages))
	}
	chain := newChain()
	appendRecords(t, b, chain,
		store.ConsentRecord{SiteID: site, ConsentID: uuid.New(), Time: now.AddDate(-6, 0, 0), Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 1},
		store.ConsentRecord{SiteID: site, ConsentID: uuid.New(), Time: now.AddDate(-4, 0, 0), Action: store.ConsentAcceptAll, Granted: store.ConsentAll, PolicyVersion: 1},
	)

	want := store.RetentionResult{Events: 2, Visits: 2, IPs: 4, LedgerRecords: 1}
	dry, err := b.ApplyRetention(ctx, plan, true)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if dry != want {
		t.Errorf("dry run counted %+v, want %+v", dry, want)
	}
	all := func() []store.Event {
		got, err := b.Events(ctx, store.EventQuery{SiteID: site, From: now.AddDate(-3, 0, 0), To: now.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := len(all()); got != len(ages) {
		t.Fatalf("a dry run removed events: %d left, want %d", got, len(ages))
	}
	// IPs are cleared before events are deleted: the counts are per class.
	got, err := b.ApplyRetention(ctx, plan, false)
	if err != nil {
		t.Fatalf("retention: %v", err)
	}
	if got != want {
		t.Errorf("retention removed %+v, want %+v", got, want)
	}
	left := all()
	if len(left) != 4 {
		t.Fatalf("%d events left, want 4", len(left))
	}
	for _, e := range left {
		wantIP := ""
		if !e.Time.Before(plan.IPBefore) {
			wantIP = "203.0.113.9"
		}
		if e.IP != wantIP {
			t.Errorf("event of %s: IP %q, want %q", e.Time, e.IP, wantIP)
		}
		if e.IPTrunc == "" || e.Browser == "" || e.Path == "" {
			t.Errorf("event of %s lost more than its IP: %+v", e.Time, e)
		}
	}
	// The visit rows left are those of the events left: a visit goes when
	// its first event does, also from the cutoff's own day.
	for _, v := range visits() {
		if v.Start.Before(plan.EventsBefore) {
			t.Errorf("a visit row of %s outlived the raw events' cutoff %s", v.Start, plan.EventsBefore)
		}
	}
	if n := len(visits()); n != len(left) {
		t.Errorf("%d visit rows left, want %d (one per event left)", n, len(left))
	}
	recs, err := b.ConsentRecords(ctx, site, now.AddDate(-10, 0, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || !recs[0].Time.Equal(now.AddDate(-4, 0, 0)) {
		t.Errorf("ledger after retention: %+v, want only the 4-year-old record", recs)
	}
	if br := store.VerifyChain(recs); br != nil {
		t.Errorf("the ledger's remaining chain does not verify from its first kept record: %v", br)
	}
	again, err := b.ApplyRetention(ctx, plan, false)
	if err != nil || again != (store.RetentionResult{}) {
		t.Errorf("second run: %+v, %v; want nothing left to do", again, err)
	}
}
