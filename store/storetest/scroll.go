package storetest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// ScrollEvents are three visits of PropsDay with engagement events that
// report scroll depths, each the page view's deepest so far:
//
//	A  visitor 1, session 1, DE: /a viewed 10:00 (40 %, then 70 %), /b 10:03
//	   (100 %), /a again 10:05 (30 %): /a once at 70, /b at 100
//	B  visitor 2, session 2, FR: /a 11:00 (20 %, then an engagement without
//	   a depth): /a at 20
//	C  visitor 3, session 3, FR: /b 12:00, engagement without a depth: none
//
// and a bot's 5 % on /a, which must not count.
func ScrollEvents(site uint32) []store.Event {
	ev := func(visitor uint64, country string, typ store.EventType, path, hm string, depth uint8) store.Event {
		e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Host: "shop.test", Path: path,
			Time:       propsDayAt(hm),
			VisitorKey: visitor, KeyVersion: 1, SessionID: visitor, Country: country, Consent: store.ConsentAnalytics,
			ScrollDepth: depth}
		if typ == store.Engagement {
			e.EngagedMS = 3000
		}
		e.ReceivedAt = e.Time
		return e
	}
	bot := ev(8, "DE", store.Engagement, "/a", "10:01", 5)
	bot.Bot, bot.BotReason = true, "test"
	return []store.Event{
		ev(1, "DE", store.Pageview, "/a", "10:00", 0),
		ev(1, "DE", store.Engagement, "/a", "10:01", 40),
		ev(1, "DE", store.Engagement, "/a", "10:02", 70),
		ev(1, "DE", store.Pageview, "/b", "10:03", 0),
		ev(1, "DE", store.Engagement, "/b", "10:04", 100),
		ev(1, "DE", store.Pageview, "/a", "10:05", 0),
		ev(1, "DE", store.Engagement, "/a", "10:06", 30),
		ev(2, "FR", store.Pageview, "/a", "11:00", 0),
		ev(2, "FR", store.Engagement, "/a", "11:01", 20),
		ev(2, "FR", store.Engagement, "/a", "11:02", 0),
		ev(3, "FR", store.Pageview, "/b", "12:00", 0),
		ev(3, "FR", store.Engagement, "/b", "12:01", 0),
		bot,
	}
}

// RunScrollDepth checks the pages' scroll depth (store.DimScrollDepth) in
// FilteredBreakdown against answers worked out by hand over ScrollEvents:
// per page, the visitors and visits with a depth, the visit and page pairs
// with one (Events) and the sum of their deepest depths (EngagedMS), under
// filters as any event row. Summing a page view's depths instead of
// taking the deepest, or counting an engagement without one, fails it.
func RunScrollDepth(t *testing.T, open func(t *testing.T) PropsBackend) {
	b := open(t)
	site := addSite(t, b).ID
	if err := b.InsertEvents(context.Background(), ScrollEvents(site)); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	type row struct {
		Value                           string
		Visitors, Visits, Events, Depth uint64
	}
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	for _, c := range []struct {
		name    string
		filters []store.Filter
		want    []row
	}{
		{"All", []store.Filter{f(store.DimScrollDepth, "~", "")}, []row{
			{"/a", 2, 2, 2, 70 + 20},
			{"/b", 1, 1, 1, 100},
		}},
		{"FromFR", []store.Filter{f(store.DimCountry, "==", "FR")}, []row{
			{"/a", 1, 1, 1, 20},
		}},
		{"VisitsThatViewedB", []store.Filter{f(store.DimPage, "==", "/b")}, []row{
			{"/a", 1, 1, 1, 70},
			{"/b", 1, 1, 1, 100},
		}},
		{"NotFromDE", []store.Filter{f(store.DimCountry, "!=", "DE"), f(store.DimPage, "~", "/")}, []row{
			{"/a", 1, 1, 1, 20},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := b.FilteredBreakdown(context.Background(), store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimScrollDepth,
				Filters: c.filters, From: PropsDay, To: PropsDay.Add(24 * time.Hour)})
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			sortRollups(rows)
			var got []row
			for _, r := range rows {
				if r.Pageviews != 0 || r.Bounces != 0 || r.DurationSec != 0 {
					t.Errorf("%s: %d pageviews, %d bounces, %d s; want none", r.Value, r.Pageviews, r.Bounces, r.DurationSec)
				}
				got = append(got, row{r.Value, r.Visitors, r.Visits, r.Events, r.EngagedMS})
			}
			if diff := gocmp.Diff(c.want, got); diff != "" {
				t.Errorf("scroll depth %v (-want +got):\n%s", c.filters, diff)
			}
		})
	}
}
