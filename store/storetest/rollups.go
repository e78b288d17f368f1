package storetest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// RollupBackend is what the rollup suite exercises.
type RollupBackend interface {
	Backend
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
	EraseEventsByConsent(ctx context.Context, consentID uuid.UUID) (int64, error)
	ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error)
	Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error)
	ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error)
	AppendRuns(ctx context.Context, runs []store.Run) error
	Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error)
	LateWindows(ctx context.Context, q store.LateQuery) ([]time.Time, error)
	FirstActivity(ctx context.Context, siteID uint32) (time.Time, error)
	PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error)
}

// RunRollups runs the rollup suite: the fixture's known answers on every
// granularity, replacement without double counting, the run log, late
// windows and partner cells.
func RunRollups(t *testing.T, open func(t *testing.T) RollupBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b RollupBackend)
	}{
		{"KnownAnswers", testRollupKnownAnswers},
		{"ReplaceThreeTimesIsIdentical", testRollupReplaceIdempotent},
		{"ReplaceDropsVanishedValues", testRollupReplaceDropsVanished},
		{"RunLog", testRollupRunLog},
		{"LateWindows", testRollupLateWindows},
		{"FirstActivity", testRollupFirstActivity},
		{"PartnerCells", testRollupPartnerCells},
		{"EmailOpensAndClicks", testRollupEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

//go:embed testdata/rollups/fixture.json
var fixtureJSON []byte

// LoadRollupFixture returns the committed rollup fixture.
func LoadRollupFixture(t testing.TB) RollupFixture {
	t.Helper()
	var f RollupFixture
	if err := json.Unmarshal(fixtureJSON, &f); err != nil {
		t.Fatalf("rollup fixture: %v", err)
	}
	return f
}

// RollupFixtureBackend is what SeedRollupFixture writes to.
type RollupFixtureBackend interface {
	InsertEvents(ctx context.Context, events []store.Event) error
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
}

// SeedRollupFixture stores the fixture's events and consent records under
// siteID.
func SeedRollupFixture(t testing.TB, b RollupFixtureBackend, f RollupFixture, siteID uint32) {
	t.Helper()
	ctx := context.Background()
	events := make([]store.Event, len(f.Events))
	for i, e := range f.Events {
		e.SiteID = siteID
		events[i] = e
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatalf("seed fixture events: %v", err)
	}
	chain := newChain()
	for _, c := range f.Consent {
		r := store.ConsentRecord{SiteID: siteID, ConsentID: uuid.New(), Time: c.Time, Action: store.ConsentAction(c.Action),
			Granted: store.Categories(c.Granted), PolicyVersion: 1, GPC: c.GPC, Language: "en"}
		if err := chain.Append(&r, func(r *store.ConsentRecord) error { return b.AppendConsent(ctx, *r) }); err != nil {
			t.Fatalf("seed fixture consent: %v", err)
		}
	}
}

// WithSite returns the expected rows of a case under siteID.
func (c RollupCase) WithSite(siteID uint32) ([]store.RollupRow, []store.ConsentRollupRow) {
	rows := make([]store.RollupRow, len(c.Rollups))
	for i, r := range c.Rollups {
		r.SiteID = siteID
		rows[i] = r
	}
	cons := make([]store.ConsentRollupRow, len(c.Consent))
	for i, r := range c.Consent {
		r.SiteID = siteID
		cons[i] = r
	}
	return rows, cons
}

// Spec is the case's ReplaceRollups call for siteID.
func (c RollupCase) Spec(siteID uint32, version uint64) store.RollupSpec {
	return store.RollupSpec{SiteID: siteID, Granularity: c.Granularity, TimeZone: c.TimeZone, From: c.From, To: c.To, Version: version}
}

// Query reads back what the case wrote.
func (c RollupCase) Query(siteID uint32) store.RollupQuery {
	return store.RollupQuery{SiteID: siteID, Granularity: c.Granularity, From: c.From, To: c.To}
}

func readRollups(t *testing.T, b RollupBackend, q store.RollupQuery) ([]store.RollupRow, []store.ConsentRollupRow) {
	t.Helper()
	ctx := context.Background()
	rows, err := b.Rollups(ctx, q)
	if err != nil {
		t.Fatalf("Rollups: %v", err)
	}
	cons, err := b.ConsentRollups(ctx, q)
	if err != nil {
		t.Fatalf("ConsentRollups: %v", err)
	}
	return rows, cons
}

func testRollupKnownAnswers(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	f := LoadRollupFixture(t)
	site := addSite(t, b).ID
	SeedRollupFixture(t, b, f, site)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			counts, err := b.ReplaceRollups(ctx, c.Spec(site, 1))
			if err != nil {
				t.Fatalf("ReplaceRollups: %v", err)
			}
			wantRows, wantConsent := c.WithSite(site)
			gotRows, gotConsent := readRollups(t, b, c.Query(site))
			if diff := cmp.Diff(wantRows, gotRows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rollups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantConsent, gotConsent, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("consent rollups (-want +got):\n%s", diff)
			}
			// Every event and consent record is read once; every row
			// written is counted in its window.
			var read, written uint64
			for _, wc := range counts {
				read += wc.RowsRead
				written += wc.RowsWritten
			}
			if want := uint64(len(f.Events) + len(f.Consent)); read != want {
				t.Errorf("rows read %d, want %d", read, want)
			}
			if want := uint64(len(wantRows) + len(wantConsent)); written != want {
				t.Errorf("rows written %d, want %d", written, want)
			}
		})
	}
}

func testRollupReplaceIdempotent(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	f := LoadRollupFixture(t)
	site := addSite(t, b).ID
	SeedRollupFixture(t, b, f, site)
	for _, c := range f.Cases[:2] {
		var first []store.RollupRow
		var firstConsent []store.ConsentRollupRow
		var firstCounts []store.WindowCount
		for run := range 3 {
			counts, err := b.ReplaceRollups(ctx, c.Spec(site, uint64(run+1)))
			if err != nil {
				t.Fatalf("%s run %d: %v", c.Name, run+1, err)
			}
			rows, cons := readRollups(t, b, c.Query(site))
			if run == 0 {
				first, firstConsent, firstCounts = rows, cons, counts
				continue
			}
			if diff := cmp.Diff(first, rows); diff != "" {
				t.Errorf("%s run %d: rollups differ from the first run (-first +now):\n%s", c.Name, run+1, diff)
			}
			if diff := cmp.Diff(firstConsent, cons); diff != "" {
				t.Errorf("%s run %d: consent rollups differ from the first run (-first +now):\n%s", c.Name, run+1, diff)
			}
			if diff := cmp.Diff(firstCounts, counts); diff != "" {
				t.Errorf("%s run %d: window counts differ (-first +now):\n%s", c.Name, run+1, diff)
			}
		}
	}
	// A replaced sub-range leaves its neighbours alone.
	c := f.Cases[0]
	sub := c.Spec(site, 9)
	sub.From, sub.To = c.From.Add(5*time.Hour), c.From.Add(7*time.Hour)
	sub.Partial = true
	if _, err := b.ReplaceRollups(ctx, sub); err != nil {
		t.Fatalf("sub-range: %v", err)
	}
	rows, _ := readRollups(t, b, c.Query(site))
	want, _ := c.WithSite(site)
	for i := range want {
		want[i].Partial = !want[i].WindowStart.Before(sub.From) && want[i].WindowStart.Before(sub.To)
	}
	if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after replacing two partial hours (-want +got):\n%s", diff)
	}
}

func testRollupReplaceDropsVanished(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	at := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	gone, kept := uuid.New(), uuid.New()
	events := []store.Event{
		{ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at, ReceivedAt: at, Path: "/kept", VisitorKey: 1, ConsentID: kept},
		{ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at.Add(time.Minute), ReceivedAt: at, Path: "/erased", VisitorKey: 2, ConsentID: gone},
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	spec := store.RollupSpec{SiteID: site, Granularity: store.Daily, From: at.Truncate(24 * time.Hour), To: at.Truncate(24 * time.Hour).Add(24 * time.Hour), Version: 1}
	if _, err := b.ReplaceRollups(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := b.EraseEventsByConsent(ctx, gone); err != nil {
		t.Fatal(err)
	}
	spec.Version = 2
	if _, err := b.ReplaceRollups(ctx, spec); err != nil {
		t.Fatal(err)
	}
	rows, _ := readRollups(t, b, store.RollupQuery{SiteID: site, Granularity: store.Daily, From: spec.From, To: spec.To})
	for _, r := range rows {
		if r.Value == "/erased" {
			t.Errorf("a row of erased events survived the re-run: %+v", r)
		}
		if r.Dimension == store.DimTotal && r.Visitors != 1 {
			t.Errorf("total visitors %d after erasure, want 1", r.Visitors)
		}
	}
}

func testRollupRunLog(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	w := time.Date(2026, 6, 30, 23, 0, 0, 0, time.UTC)
	runs := []store.Run{
		{SiteID: site, Granularity: store.Hourly, WindowStart: w, WindowEnd: w.Add(time.Hour), Version: 7,
			Started: w.Add(2 * time.Hour), Finished: w.Add(2*time.Hour + 3*time.Second), RowsRead: 10, RowsWritten: 4, Status: store.RunOK},
		{SiteID: site, Granularity: store.Hourly, WindowStart: w.Add(time.Hour), WindowEnd: w.Add(2 * time.Hour), Version: 7,
			Started: w.Add(2 * time.Hour), Finished: w.Add(2 * time.Hour), Status: store.RunFailed, Partial: true, Error: "boom"},
		{SiteID: site, Granularity: store.Daily, WindowStart: w.Add(time.Hour), WindowEnd: w.Add(25 * time.Hour), Version: 7,
			Started: w.Add(2 * time.Hour), Finished: w.Add(2 * time.Hour), Status: store.RunOK, Partial: true},
	}
	if err := b.AppendRuns(ctx, runs); err != nil {
		t.Fatalf("AppendRuns: %v", err)
	}
	got, err := b.Runs(ctx, store.RunQuery{SiteID: site, Granularity: store.Hourly, From: w, To: w.Add(48 * time.Hour)})
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	if diff := cmp.Diff(runs[:2], got); diff != "" {
		t.Errorf("hourly runs (-want +got):\n%s", diff)
	}
}

func testRollupLateWindows(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	day := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	ev := func(at, received time.Time) store.Event {
		return store.Event{ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at, ReceivedAt: received, Path: "/", VisitorKey: 9}
	}
	ranAt := day.Add(3 * time.Hour)
	// Hours 0 and 1 ran at 03:00; hour 2 never ran.
	var runs []store.Run
	for h := range 2 {
		w := day.Add(time.Duration(h) * time.Hour)
		runs = append(runs, store.Run{SiteID: site, Granularity: store.Hourly, WindowStart: w, WindowEnd: w.Add(time.Hour),
			Version: 1, Started: ranAt, Finished: ranAt, Status: store.RunOK})
	}
	// A failed later run does not count as the last aggregation.
	runs = append(runs, store.Run{SiteID: site, Granularity: store.Hourly, WindowStart: day, WindowEnd: day.Add(time.Hour),
		Version: 2, Started: ranAt.Add(time.Hour), Finished: ranAt.Add(time.Hour), Status: store.RunFailed, Error: "x"})
	if err := b.AppendRuns(ctx, runs); err != nil {
		t.Fatal(err)
	}
	events := []store.Event{
		ev(day.Add(10*time.Minute), day.Add(11*time.Minute)),        // hour 0, on time
		ev(day.Add(70*time.Minute), day.Add(71*time.Minute)),        // hour 1, on time
		ev(day.Add(130*time.Minute), day.Add(131*time.Minute)),      // hour 2, never aggregated
		ev(day.Add(20*time.Minute), ranAt.Add(30*time.Minute)),      // hour 0, late
		ev(day.Add(-time.Hour), ranAt.Add(30*time.Minute)),          // before the range
		ev(day.Add(25*time.Hour), ranAt.Add(30*time.Minute)),        // after the range
		ev(day.Add(80*time.Minute).Add(0), ranAt.Add(-time.Second)), // hour 1, just before the run
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := b.LateWindows(ctx, store.LateQuery{SiteID: site, Granularity: store.Hourly, From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("LateWindows: %v", err)
	}
	if diff := cmp.Diff([]time.Time{day}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("late windows (-want +got):\n%s", diff)
	}
	// Received exactly when the run started: it may have been missed.
	if err := b.InsertEvents(ctx, []store.Event{ev(day.Add(75*time.Minute), ranAt)}); err != nil {
		t.Fatal(err)
	}
	got, err = b.LateWindows(ctx, store.LateQuery{SiteID: site, Granularity: store.Hourly, From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("LateWindows: %v", err)
	}
	if diff := cmp.Diff([]time.Time{day, day.Add(time.Hour)}, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("late windows (-want +got):\n%s", diff)
	}
}

func testRollupFirstActivity(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	if _, err := b.FirstActivity(ctx, site); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FirstActivity of a site without events: got %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	events := []store.Event{
		{ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at.Add(time.Hour), ReceivedAt: at, Path: "/"},
		{ID: uuid.New(), SiteID: site, Type: store.Click, Time: at, ReceivedAt: at, Path: "/"},
	}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := b.FirstActivity(ctx, site)
	if err != nil || !got.Equal(at) {
		t.Errorf("FirstActivity = %v, %v; want %v", got, err, at)
	}
	// A consent record before the first event counts too.
	earlier := at.Add(-time.Minute)
	r := store.ConsentRecord{SiteID: site, ConsentID: uuid.New(), Time: earlier, Action: store.ConsentRejectAll, PolicyVersion: 1}
	if err := newChain().Append(&r, func(r *store.ConsentRecord) error { return b.AppendConsent(ctx, *r) }); err != nil {
		t.Fatal(err)
	}
	got, err = b.FirstActivity(ctx, site)
	if err != nil || !got.Equal(earlier) {
		t.Errorf("FirstActivity with a consent record = %v, %v; want %v", got, err, earlier)
	}
}

func testRollupPartnerCells(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	f := LoadRollupFixture(t)
	site := addSite(t, b).ID
	SeedRollupFixture(t, b, f, site)
	for _, c := range f.Cells {
		t.Run(c.Name, func(t *testing.T) {
			q := c.Query
			q.SiteID = site
			got, err := b.PartnerCells(ctx, q)
			if err != nil {
				t.Fatalf("PartnerCells: %v", err)
			}
			if diff := cmp.Diff(c.Cells, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
		})
	}
}

// testRollupEmail checks the e-mail dimensions on hand-written events: each
// campaign and link gets its own opens and clicks (counts that differ
// everywhere, so a swap or a mix-up shows), campaigns that differ only by
// escaping stay apart, events without marketing consent count nowhere, and
// e-mail events add no visit, visitor or event to the web metrics.
func testRollupEmail(t *testing.T, b RollupBackend) {
	ctx := context.Background()
	site := addSite(t, b).ID
	day := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	at := day.Add(10 * time.Hour)
	// The subscriber clicked a newsletter link and read one page.
	events := []store.Event{{
		ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at, ReceivedAt: at, Host: "shop.example", Path: "/sale",
		VisitorKey: 7, Consent: store.ConsentAnalytics | store.ConsentMarketing, Source: "email",
		UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "spring",
	}}
	add := func(typ store.EventType, campaign, link string, cats store.Categories, n int) {
		for i := range n {
			ts := at.Add(time.Duration(len(events)+i) * time.Minute)
			e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Time: ts, ReceivedAt: ts, Consent: cats,
				UTMMedium: "email", UTMCampaign: campaign, UTMContent: link}
			if cats&store.ConsentAnalytics != 0 {
				e.Source, e.Target = "email", "https://shop.example/"+link
			}
			events = append(events, e)
		}
	}
	marketing, both := store.ConsentMarketing, store.ConsentMarketing|store.ConsentAnalytics
	add(store.EmailOpen, "spring", "hero", marketing, 3)
	add(store.EmailClick, "spring", "hero", both, 2)
	add(store.EmailOpen, "spring", "footer", both, 1)
	add(store.EmailClick, "spring", "footer", marketing, 4)
	add(store.EmailClick, "a/b", "x", marketing, 5)
	add(store.EmailOpen, "a%2Fb", "x", marketing, 6)
	add(store.EmailOpen, "spring", "", marketing, 8)
	add(store.EmailClick, "spring", "hero", store.ConsentAnalytics, 7) // no marketing: never stored by the collector
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	spec := store.RollupSpec{SiteID: site, Granularity: store.Daily, From: day, To: day.Add(24 * time.Hour), Version: 1}
	if _, err := b.ReplaceRollups(ctx, spec); err != nil {
		t.Fatalf("ReplaceRollups: %v", err)
	}
	rows, _ := readRollups(t, b, store.RollupQuery{SiteID: site, Granularity: store.Daily, From: spec.From, To: spec.To})

	email := func(dim, value string, n uint64) store.RollupRow {
		return store.RollupRow{SiteID: site, Granularity: store.Daily, WindowStart: day, Dimension: dim, Value: value, Events: n}
	}
	want := []store.RollupRow{
		email("email_click", "a%2Fb/x", 5),
		email("email_click", "spring/footer", 4),
		email("email_click", "spring/hero", 2),
		email("email_open", "a%252Fb/x", 6),
		email("email_open", "spring/", 8),
		email("email_open", "spring/footer", 1),
		email("email_open", "spring/hero", 3),
	}
	var got []store.RollupRow
	for _, r := range rows {
		if store.EmailDimension(r.Dimension) {
			got = append(got, r)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("e-mail rows (-want +got):\n%s", diff)
	}
	for _, w := range want {
		c, l, err := store.ParseEmailValue(w.Value)
		if err != nil || store.EmailValue(c, l) != w.Value {
			t.Errorf("value %q: parsed as %q, %q, %v", w.Value, c, l, err)
		}
	}

	// The web metrics hold the one visit, as if no e-mail had been sent.
	web := store.RollupRow{SiteID: site, Granularity: store.Daily, WindowStart: day, Visitors: 1, Visits: 1, Pageviews: 1, Bounces: 1}
	for _, r := range rows {
		if store.EmailDimension(r.Dimension) {
			continue
		}
		switch r.Dimension {
		case store.DimEventName, store.DimEventTarget:
			t.Errorf("an e-mail event became a web event: %+v", r)
			continue
		}
		w := web
		w.Dimension, w.Value = r.Dimension, r.Value
		if !store.SessionDimension(r.Dimension) {
			w.Bounces = 0
		}
		if diff := cmp.Diff(w, r); diff != "" {
			t.Errorf("%s=%q (-want +got):\n%s", r.Dimension, r.Value, diff)
		}
	}
	var dims []string
	for _, r := range rows {
		if r.Dimension == store.DimUTMMedium || r.Dimension == store.DimTotal || r.Dimension == store.DimPage {
			dims = append(dims, r.Dimension+"="+r.Value)
		}
	}
	if diff := cmp.Diff([]string{"=", "page=/sale", "utm_medium=email"}, dims); diff != "" {
		t.Errorf("web rows (-want +got):\n%s", diff)
	}
}
