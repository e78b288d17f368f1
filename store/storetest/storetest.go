// Package storetest is the conformance suite every storage backend passes:
// the same events in give the same answers out. Each backend's tests call Run
// with a constructor for a real, migrated store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// Backend is what the suite exercises.
type Backend interface {
	Migrate(ctx context.Context) ([]store.MigrationFile, error)
	Migrations(ctx context.Context) ([]store.Migration, error)
	AddSite(ctx context.Context, domain string) (store.Site, error)
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	Sites(ctx context.Context) ([]store.Site, error)
	InsertEvents(ctx context.Context, events []store.Event) error
	Events(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	PageviewCounts(ctx context.Context, q store.CountQuery) ([]store.Count, error)
	Ping(ctx context.Context) error
}

// Run runs the conformance suite. open returns a migrated store; it may be
// called once per subtest and may return the same database each time: every
// subtest works on sites of its own.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"MigrateIsIdempotent", testMigrateIdempotent},
		{"Sites", testSites},
		{"EventsRoundTrip", testEventsRoundTrip},
		{"ReplayedEventStoredOnce", testReplayStoredOnce},
		{"PageviewCounts", testPageviewCounts},
		{"ConcurrentWriters", testConcurrentWriters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func testMigrateIdempotent(t *testing.T, b Backend) {
	ctx := context.Background()
	before, err := b.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if len(before) == 0 {
		t.Fatal("a migrated store records no migrations")
	}
	applied, err := b.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(applied) != 0 {
		t.Errorf("second Migrate applied %d migrations, want 0", len(applied))
	}
	after, err := b.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("schema_migrations changed on re-run (-before +after):\n%s", diff)
	}
	// Versions rise; gaps are allowed (migrations apply as a set, so work
	// landed in parallel may leave numbers unused).
	for i, m := range after {
		if i > 0 && m.Version <= after[i-1].Version {
			t.Errorf("migration %d has version %d after %d, want rising versions", i, m.Version, after[i-1].Version)
		}
	}
}

func testSites(t *testing.T, b Backend) {
	ctx := context.Background()
	domain := randomDomain()
	if _, err := b.SiteByDomain(ctx, domain); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SiteByDomain before AddSite: got %v, want ErrNotFound", err)
	}
	added, err := b.AddSite(ctx, domain)
	if err != nil {
		t.Fatalf("AddSite: %v", err)
	}
	if added.ID == 0 || added.Domain != domain || added.CreatedAt.IsZero() {
		t.Errorf("AddSite returned %+v", added)
	}
	if _, err := b.AddSite(ctx, domain); !errors.Is(err, store.ErrSiteExists) {
		t.Errorf("AddSite twice: got %v, want ErrSiteExists", err)
	}
	got, err := b.SiteByDomain(ctx, domain)
	if err != nil {
		t.Fatalf("SiteByDomain: %v", err)
	}
	if diff := cmp.Diff(added, got); diff != "" {
		t.Errorf("SiteByDomain (-added +got):\n%s", diff)
	}
	all, err := b.Sites(ctx)
	if err != nil {
		t.Fatalf("Sites: %v", err)
	}
	found := 0
	for _, s := range all {
		if s.Domain == domain {
			found++
		}
	}
	if found != 1 {
		t.Errorf("Sites lists %s %d times, want once", domain, found)
	}

	// Processes registering one new site at the same moment (two
	// collectors starting on an empty store) end with one site: whoever
	// succeeds gets the same id, and the site is listed once.
	racing := randomDomain()
	ids := make([]uint32, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			if s, err := b.AddSite(ctx, racing); err == nil {
				ids[i] = s.ID
			} else if !errors.Is(err, store.ErrSiteExists) {
				t.Errorf("concurrent AddSite: %v", err)
			}
		})
	}
	wg.Wait()
	one, err := b.SiteByDomain(ctx, racing)
	if err != nil {
		t.Fatalf("SiteByDomain after concurrent AddSite: %v", err)
	}
	for _, id := range ids {
		if id != 0 && id != one.ID {
			t.Errorf("concurrent AddSite gave ids %v; SiteByDomain says %d", ids, one.ID)
			break
		}
	}
	if all, err = b.Sites(ctx); err != nil {
		t.Fatalf("Sites: %v", err)
	}
	if n := len(slices.DeleteFunc(all, func(s store.Site) bool { return s.Domain != racing })); n != 1 {
		t.Errorf("Sites lists %s %d times after concurrent AddSite, want once", racing, n)
	}
}

func testEventsRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	site := addSite(t, b)
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	full := fullEvent(site.ID, day.Add(9*time.Hour))
	minimal := store.Event{
		ID: uuid.New(), SiteID: site.ID, Type: store.Pageview,
		Time: day.Add(10 * time.Hour), ReceivedAt: day.Add(10 * time.Hour),
		Host: "example.test", Path: "/",
	}
	// The extreme visitor key checks that unsigned 64-bit values survive.
	minimal.VisitorKey = 1<<64 - 1
	outside := minimal
	outside.ID = uuid.New()
	outside.Time = day.Add(-time.Second)
	if err := b.InsertEvents(ctx, []store.Event{minimal, full, outside}); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	got, err := b.Events(ctx, store.EventQuery{SiteID: site.ID, From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	want := []store.Event{full, minimal}
	// Empty and nil props are the same to every reader.
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Events (-want +got):\n%s", diff)
	}
}

func testReplayStoredOnce(t *testing.T, b Backend) {
	ctx := context.Background()
	site := addSite(t, b)
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	e := fullEvent(site.ID, at)
	e.Type = store.Pageview
	for i := range 3 {
		if err := b.InsertEvents(ctx, []store.Event{e}); err != nil {
			t.Fatalf("InsertEvents #%d: %v", i+1, err)
		}
	}
	got, err := b.Events(ctx, store.EventQuery{SiteID: site.ID, From: at, To: at.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(got) != 1 {
		t.Errorf("an event inserted 3 times reads back %d times, want 1", len(got))
	}
	counts, err := b.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: at, To: at.Add(time.Hour), By: store.ByDay})
	if err != nil {
		t.Fatalf("PageviewCounts: %v", err)
	}
	want := []store.Count{{Key: "2026-05-01", Pageviews: 1}}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("counts after replay (-want +got):\n%s", diff)
	}
}

func testPageviewCounts(t *testing.T, b Backend) {
	ctx := context.Background()
	site := addSite(t, b)
	other := addSite(t, b)
	day1 := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC) // spans a month (partition) boundary
	day2 := day1.Add(24 * time.Hour)
	var events []store.Event
	add := func(siteID uint32, typ store.EventType, at time.Time, path, ref string, n int) {
		for i := range n {
			events = append(events, store.Event{
				ID: uuid.New(), SiteID: siteID, Type: typ,
				Time: at.Add(time.Duration(i) * time.Minute), ReceivedAt: at,
				Host: "example.test", Path: path, ReferrerHost: ref,
			})
		}
	}
	add(site.ID, store.Pageview, day1.Add(1*time.Hour), "/", "", 5)
	add(site.ID, store.Pageview, day1.Add(2*time.Hour), "/pricing", "news.example", 3)
	add(site.ID, store.Pageview, day2.Add(23*time.Hour), "/", "search.example", 7)
	add(site.ID, store.Pageview, day2.Add(3*time.Hour), "/docs", "news.example", 3)
	add(site.ID, store.Click, day2.Add(3*time.Hour), "/docs", "news.example", 7)      // not a pageview
	add(other.ID, store.Pageview, day1.Add(3*time.Hour), "/", "news.example", 11)     // another site
	add(site.ID, store.Pageview, day2.Add(24*time.Hour), "/late", "news.example", 4)  // after To
	add(site.ID, store.Pageview, day1.Add(-time.Minute), "/early", "news.example", 1) // before From
	rand.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	tests := []struct {
		by   store.Dimension
		want []store.Count
	}{
		{store.ByDay, []store.Count{{Key: "2026-01-31", Pageviews: 8}, {Key: "2026-02-01", Pageviews: 10}}},
		{store.ByPath, []store.Count{{Key: "/", Pageviews: 12}, {Key: "/docs", Pageviews: 3}, {Key: "/pricing", Pageviews: 3}}},
		{store.ByReferrerHost, []store.Count{{Key: "search.example", Pageviews: 7}, {Key: "news.example", Pageviews: 6}, {Key: "", Pageviews: 5}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.by), func(t *testing.T) {
			got, err := b.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: day1, To: day2.Add(24 * time.Hour), By: tt.by})
			if err != nil {
				t.Fatalf("PageviewCounts: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := b.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: day1, To: day2, By: "ip"}); err == nil {
		t.Error("PageviewCounts by an unknown dimension: got no error")
	}
}

func testConcurrentWriters(t *testing.T, b Backend) {
	ctx := context.Background()
	site := addSite(t, b)
	at := time.Date(2026, 7, 4, 8, 0, 0, 0, time.UTC)
	const writers, batches, perBatch = 4, 5, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for range batches {
				batch := make([]store.Event, perBatch)
				for i := range batch {
					batch[i] = store.Event{
						ID: uuid.New(), SiteID: site.ID, Type: store.Pageview,
						Time: at.Add(time.Duration(i) * time.Second), ReceivedAt: at,
						Host: "example.test", Path: fmt.Sprintf("/w%d", w),
					}
				}
				if err := b.InsertEvents(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent InsertEvents: %v", err)
	}
	got, err := b.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: at, To: at.Add(time.Hour), By: store.ByPath})
	if err != nil {
		t.Fatalf("PageviewCounts: %v", err)
	}
	var want []store.Count
	for w := range writers {
		want = append(want, store.Count{Key: fmt.Sprintf("/w%d", w), Pageviews: batches * perBatch})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func addSite(t *testing.T, b Backend) store.Site {
	t.Helper()
	s, err := b.AddSite(context.Background(), randomDomain())
	if err != nil {
		t.Fatalf("AddSite: %v", err)
	}
	return s
}

func randomDomain() string {
	return fmt.Sprintf("site-%08x.example", rand.Uint32())
}

// fullEvent sets every field, so a column a backend forgets shows up in a diff.
func fullEvent(siteID uint32, at time.Time) store.Event {
	return store.Event{
		ID: uuid.New(), SiteID: siteID, Type: store.Click,
		Time: at, ReceivedAt: at.Add(2 * time.Second),
		Host: "example.test", Path: "/blog/post", Query: "page=2",
		Referrer: "https://news.example/item?id=1", ReferrerHost: "news.example", Source: "social",
		UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "spring", UTMTerm: "shoes", UTMContent: "hero",
		ClickID: "gclid:abc123",
		IP:      "203.0.113.7", IPTrunc: "203.0.113.0",
		VisitorKey: 0x8000_0000_0000_0001, KeyVersion: 1, SessionID: 42, UserID: "user-7",
		ConsentID: uuid.New(), Consent: store.ConsentAnalytics | store.ConsentMarketing, PolicyVersion: "3", GPC: true,
		Browser: "Firefox", BrowserVersion: "133", OS: "Linux", OSVersion: "", Device: "desktop", ScreenWidth: 1920, Language: "de",
		Country: "DE", Region: "BE", City: "Berlin", ASN: 64500, ISP: "Example Telecom",
		Name: "download", Target: "https://example.test/file.pdf",
		Props:     []store.Prop{{Key: "plan", Value: "pro"}, {Key: "ab", Value: "b"}},
		EngagedMS: 12345, Bot: true, BotReason: "crawlerdetect",
		RevenueAmount: store.MaxAmount - 1, RevenueCurrency: "EUR", ScrollDepth: 100,
	}
}
