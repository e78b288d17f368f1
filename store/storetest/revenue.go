package storetest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// RevenueEvents are purchases on PropsDay in three currencies: visitor 1
// buys for 19.90 EUR (plan pro) and 5 USD in visit A, for 10.10 EUR in
// visit B; visitor 2 (FR) for 0.0001 EUR (plan free) and once without
// revenue in visit C; visitor 3 (FR) clicks Buy for 100 JPY in visit D.
// Visitor 1's engaged time and a bot's purchase must not count.
func RevenueEvents(site uint32) []store.Event {
	ev := func(visitor, session uint64, country string, typ store.EventType, name, hm, amount, currency string, props ...string) store.Event {
		e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Host: "shop.test", Path: "/shop", Name: name,
			Time:       propsDayAt(hm),
			VisitorKey: visitor, KeyVersion: 1, SessionID: session, Country: country, Consent: store.ConsentAnalytics}
		e.ReceivedAt = e.Time
		if amount != "" {
			a, err := store.ParseAmount(amount)
			if err != nil {
				panic(err)
			}
			e.RevenueAmount, e.RevenueCurrency = a, currency
		}
		for i := 0; i+1 < len(props); i += 2 {
			e.Props = append(e.Props, store.Prop{Key: props[i], Value: props[i+1]})
		}
		return e
	}
	engaged := ev(1, 1, "DE", store.Engagement, "", "10:03", "", "")
	engaged.EngagedMS = 5000
	bot := ev(8, 8, "DE", store.Custom, "Purchase", "10:00", "999", "EUR")
	bot.Bot, bot.BotReason = true, "test"
	return []store.Event{
		ev(1, 1, "DE", store.Pageview, "", "10:00", "", ""),
		ev(1, 1, "DE", store.Custom, "Purchase", "10:01", "19.90", "EUR", "plan", "pro"),
		ev(1, 1, "DE", store.Custom, "Purchase", "10:02", "5", "USD"),
		engaged,
		ev(1, 2, "DE", store.Custom, "Purchase", "12:00", "10.10", "EUR"),
		ev(2, 3, "FR", store.Pageview, "", "11:00", "", ""),
		ev(2, 3, "FR", store.Custom, "Purchase", "11:01", "0.0001", "EUR", "plan", "free"),
		ev(2, 3, "FR", store.Custom, "Purchase", "11:02", "", ""),
		ev(3, 4, "FR", store.Click, "Buy", "11:00", "100", "JPY"),
		bot,
	}
}

// RevenueGoals are goals over RevenueEvents.
var RevenueGoals = []store.GoalMatch{
	{Name: "Purchase", Event: "Purchase"},
	{Name: "Pro purchase", Event: "Purchase", Props: []store.Prop{{Key: "plan", Value: "pro"}}},
	{Name: "Buy", Event: "Buy"},
	{Name: "Shop", Paths: []string{"/shop"}},
}

// RevenueBackend answers the goals' revenue.
type RevenueBackend interface {
	PropsBackend
	HasRevenue(ctx context.Context, q store.VisitorQuery) (bool, error)
}

// RunGoalRevenue checks the revenue of goals (store.DimGoalRevenue) in
// FilteredBreakdown against answers worked out by hand over
// RevenueEvents: per goal and currency, never across currencies, the
// visitors and visits with revenue, the revenue events and the sum of
// their amounts (in EngagedMS), under filters as any goal row; and
// HasRevenue, true for a range with an event with revenue only.
func RunGoalRevenue(t *testing.T, open func(t *testing.T) RevenueBackend) {
	b := open(t)
	site := addSite(t, b).ID
	if err := b.InsertEvents(context.Background(), RevenueEvents(site)); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	for _, c := range []struct {
		name     string
		site     uint32
		from, to time.Time
		want     bool
	}{
		{"TheDay", site, PropsDay, PropsDay.Add(24 * time.Hour), true},
		{"FromTheLastPurchase", site, PropsDay.Add(12 * time.Hour), PropsDay.Add(24 * time.Hour), true},
		{"AfterIt", site, PropsDay.Add(12*time.Hour + time.Minute), PropsDay.Add(24 * time.Hour), false},
		{"BeforeTheFirst", site, PropsDay, PropsDay.Add(10 * time.Hour), false},
		{"AnotherSite", site + 1, PropsDay, PropsDay.Add(24 * time.Hour), false},
	} {
		has, err := b.HasRevenue(context.Background(), store.VisitorQuery{SiteID: c.site, From: c.from, To: c.to})
		if err != nil || has != c.want {
			t.Errorf("HasRevenue %s: %v, %v; want %v", c.name, has, err, c.want)
		}
	}
	type row struct {
		Value                    string
		Visitors, Visits, Events uint64
		Amount                   store.Amount
	}
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	for _, c := range []struct {
		name    string
		filters []store.Filter
		want    []row
	}{
		{"All", []store.Filter{f(store.DimGoalRevenue, "~", "")}, []row{
			{"Buy;JPY", 1, 1, 1, 1_000_000},
			{"Pro purchase;EUR", 1, 1, 1, 199_000},
			{"Purchase;EUR", 2, 3, 3, 199_000 + 101_000 + 1},
			{"Purchase;USD", 1, 1, 1, 50_000},
		}},
		{"FromFR", []store.Filter{f(store.DimCountry, "==", "FR")}, []row{
			{"Buy;JPY", 1, 1, 1, 1_000_000},
			{"Purchase;EUR", 1, 1, 1, 1},
		}},
		{"VisitsThatReachedProPurchase", []store.Filter{f(store.DimGoal, "==", "Pro purchase")}, []row{
			{"Pro purchase;EUR", 1, 1, 1, 199_000},
			{"Purchase;EUR", 1, 1, 1, 199_000},
			{"Purchase;USD", 1, 1, 1, 50_000},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := b.FilteredBreakdown(context.Background(), store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimGoalRevenue,
				Filters: c.filters, Goals: RevenueGoals, From: PropsDay, To: PropsDay.Add(24 * time.Hour)})
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			sortRollups(rows)
			var got []row
			for _, r := range rows {
				if r.Pageviews != 0 {
					t.Errorf("%s: %d pageviews, want 0", r.Value, r.Pageviews)
				}
				got = append(got, row{r.Value, r.Visitors, r.Visits, r.Events, store.Amount(r.EngagedMS)})
			}
			if diff := gocmp.Diff(c.want, got); diff != "" {
				t.Errorf("goal revenue %v (-want +got):\n%s", c.filters, diff)
			}
		})
	}
}
