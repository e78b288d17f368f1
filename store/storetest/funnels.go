package storetest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// FunnelEvents are seven visits of PropsDay, with the funnels' answers
// worked out by hand in RunFunnels (goals funnelGoals):
//
//	V1  visitor 1, DE: pageview / 10:00, pageview /pricing 10:01, event Signup 10:02 {plan=pro}
//	V2  visitor 2, DE: pageview / 10:00, event Signup 10:01, pageview /pricing 10:02
//	V3  visitor 3, FR: pageview /pricing 10:00, pageview / 10:01, event Signup 10:02
//	V4  visitor 3, FR: pageview / 11:00, pageview /pricing 11:01, pageview / 11:02
//	V5  visitor 4, FR: event Signup 10:00
//	V6  visitor 5, DE: pageview / 10:00, event Signup 10:05
//	V7  visitor 6, DE: pageview / 10:00:30 and pageview /pricing 10:00:30 (one
//	    second, one type: not in order), event Signup 10:01
//
// and a bot's visit that reaches every step, counted nowhere.
func FunnelEvents(site uint32) []store.Event {
	pv := func(visitor, session uint64, country, path, hms string) store.Event {
		return funnelEvent(site, visitor, session, country, store.Pageview, path, "", hms)
	}
	signup := func(visitor, session uint64, country, hms string) store.Event {
		return funnelEvent(site, visitor, session, country, store.Custom, "/signup", "Signup", hms)
	}
	out := []store.Event{
		pv(1, 1, "DE", "/", "10:00:00"), pv(1, 1, "DE", "/pricing", "10:01:00"), signup(1, 1, "DE", "10:02:00"),
		pv(2, 2, "DE", "/", "10:00:00"), signup(2, 2, "DE", "10:01:00"), pv(2, 2, "DE", "/pricing", "10:02:00"),
		pv(3, 3, "FR", "/pricing", "10:00:00"), pv(3, 3, "FR", "/", "10:01:00"), signup(3, 3, "FR", "10:02:00"),
		pv(3, 4, "FR", "/", "11:00:00"), pv(3, 4, "FR", "/pricing", "11:01:00"), pv(3, 4, "FR", "/", "11:02:00"),
		signup(4, 5, "FR", "10:00:00"),
		pv(5, 6, "DE", "/", "10:00:00"), signup(5, 6, "DE", "10:05:00"),
		pv(6, 7, "DE", "/", "10:00:30"), pv(6, 7, "DE", "/pricing", "10:00:30"), signup(6, 7, "DE", "10:01:00"),
	}
	out[2].Props = []store.Prop{{Key: "plan", Value: "pro"}}
	for _, e := range []store.Event{pv(9, 9, "DE", "/", "10:00:00"), pv(9, 9, "DE", "/pricing", "10:01:00"), signup(9, 9, "DE", "10:02:00")} {
		e.Bot, e.BotReason = true, "test"
		out = append(out, e)
	}
	return out
}

// funnelEvent is an event of a funnel case at hms (15:04:05) on PropsDay.
func funnelEvent(site uint32, visitor, session uint64, country string, typ store.EventType, path, name string, hms string) store.Event {
	at, err := time.Parse("15:04:05", hms)
	if err != nil {
		panic(err)
	}
	e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Host: "funnels.test", Path: path, Name: name,
		Time:       PropsDay.Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute + time.Duration(at.Second())*time.Second),
		VisitorKey: visitor, KeyVersion: 1, SessionID: session, Country: country, Consent: store.ConsentAnalytics}
	e.ReceivedAt = e.Time
	return e
}

// funnelGoals are the goals FunnelEvents' funnels step through.
var funnelGoals = []store.GoalMatch{
	{Name: "Signup", Event: "Signup"},
	{Name: "Home", Paths: []string{"/"}},
	{Name: "Pricing", Paths: []string{"/pricing"}},
	{Name: "Never", Event: "Never"},
}

// RunFunnels checks funnels (store.DimFunnel) in FilteredBreakdown against
// answers worked out by hand: a step counts the visits (and their
// visitors) that reached every step before it in order, a visit that
// skips a step counts for no later step, and the same events in another
// order give another answer.
func RunFunnels(t *testing.T, open func(t *testing.T) PropsBackend) {
	b := open(t)
	site := addSite(t, b).ID
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	any := []store.Filter{f(store.DimFunnel, "~", "")}
	steps := map[string][]string{}
	c := func(name string, funnel []string, filters []store.Filter, want ...handRow) handCase {
		steps[name] = funnel
		return handCase{name: name, dim: store.DimFunnel, filters: filters, want: want}
	}
	inOrder := []string{"Home", "Pricing", "Signup"}
	step := func(n string, visitors, visits uint64) handRow {
		return handRow{value: n, visitors: visitors, visits: visits}
	}
	checkHandCases(t, b, site, FunnelEvents(site), funnelGoals, steps, []handCase{
		// Step 1: every visit with a pageview of / (V5 has none); step 2:
		// V1, V2, V4 (V3's /pricing is before its /, V6 has none, V7's are
		// not in order); step 3: V1 (V2's Signup is before its /pricing;
		// V6 reached Signup but skipped Pricing).
		c("InOrder", []string{"Home", "Pricing", "Signup"}, any, step("1", 5, 6), step("2", 3, 3), step("3", 1, 1)),
		// The same goals in another order: V3 reaches every step, V4 two.
		c("StepsSwapped", []string{"Pricing", "Home", "Signup"}, any, step("1", 4, 5), step("2", 1, 2), step("3", 1, 1)),
		// Signup before Pricing: V6 and V7 now reach step 2, V2 every step.
		c("OtherOrder", []string{"Home", "Signup", "Pricing"}, any, step("1", 5, 6), step("2", 5, 5), step("3", 1, 1)),
		// A goal twice: two pageviews of /, one after the other (V4).
		c("RepeatedGoal", []string{"Home", "Home"}, any, step("1", 5, 6), step("2", 1, 1)),
		c("Filtered", []string{"Home", "Pricing", "Signup"}, []store.Filter{f(store.DimCountry, "==", "DE")},
			step("1", 4, 4), step("2", 2, 2), step("3", 1, 1)),
		// The visits that reached Signup at all: V1, V2, V3, V5, V6, V7.
		c("FilteredByGoal", []string{"Home", "Pricing", "Signup"}, []store.Filter{f(store.DimGoal, "==", "Signup")},
			step("1", 5, 5), step("2", 2, 2), step("3", 1, 1)),
		c("NoVisitReachesStep1", []string{"Never", "Home"}, any),
		// Every operator on session and event dimensions (store.Filter's
		// rules), each filter on the visit as a whole. The FR visits: V3,
		// V4, V5.
		c("SessionNotEqual", inOrder, []store.Filter{f(store.DimCountry, "!=", "DE")}, step("1", 1, 2), step("2", 1, 1)),
		c("SessionContains", inOrder, []store.Filter{f(store.DimCountry, "~", "d")}, step("1", 4, 4), step("2", 2, 2), step("3", 1, 1)),
		// Exit page /: V4 (its last event).
		c("ExitPage", inOrder, []store.Filter{f(store.DimExitPage, "==", "/")}, step("1", 1, 1), step("2", 1, 1)),
		// A pageview of /pricing anywhere in the visit: V1, V2, V3, V4, V7.
		c("EventDimension", inOrder, []store.Filter{f(store.DimPage, "==", "/pricing")}, step("1", 4, 5), step("2", 3, 3), step("3", 1, 1)),
		// V5 and V6.
		c("EventNotEqual", inOrder, []store.Filter{f(store.DimPage, "!=", "/pricing")}, step("1", 1, 1)),
		c("SessionAndEvent", inOrder, []store.Filter{f(store.DimCountry, "==", "DE"), f(store.DimPage, "==", "/pricing")},
			step("1", 3, 3), step("2", 2, 2), step("3", 1, 1)),
		// V4 alone has no Signup.
		c("EventNameNotEqual", inOrder, []store.Filter{f(store.DimEventName, "!=", "Signup")}, step("1", 1, 1), step("2", 1, 1)),
		c("GoalNotEqual", inOrder, []store.Filter{f(store.DimGoal, "!=", "Signup")}, step("1", 1, 1), step("2", 1, 1)),
		// V1's Signup carries plan=pro.
		c("Property", inOrder, []store.Filter{f("props:plan", "==", "pro")}, step("1", 1, 1), step("2", 1, 1), step("3", 1, 1)),
		c("PropertyNotEqual", inOrder, []store.Filter{f("props:plan", "!=", "pro")}, step("1", 4, 5), step("2", 2, 2)),
		c("PropertyKeys", inOrder, []store.Filter{f(store.DimProps, "~", "PLA")}, step("1", 1, 1), step("2", 1, 1), step("3", 1, 1)),
		// The funnel's own steps: the visits that reached step 2 (V1, V2,
		// V4), and those that did not reach step 3.
		c("ReachedStep2", inOrder, []store.Filter{f(store.DimFunnel, "==", "2")}, step("1", 3, 3), step("2", 3, 3), step("3", 1, 1)),
		c("NotStep3", inOrder, []store.Filter{f(store.DimFunnel, "!=", "3")}, step("1", 4, 5), step("2", 2, 2)),
	})
	t.Run("UnknownStep", func(t *testing.T) {
		q := store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimFunnel, Filters: any,
			Goals: funnelGoals, Funnel: []string{"Home", "Nope"}, From: PropsDay, To: PropsDay.Add(24 * time.Hour)}
		if _, err := b.FilteredBreakdown(context.Background(), q); err == nil {
			t.Errorf("FilteredBreakdown with a step that is no goal: no error")
		}
	})
	// Visits without a session id are split by 30 minutes of inactivity
	// (store.SessionTimeout), in a funnel as everywhere:
	//
	//	W1  visitor 7, DE: pageview / 12:00, pageview /pricing 12:01
	//	W2  visitor 7, DE: event Signup 13:00 (59 minutes later)
	//	W3  visitor 7, DE: pageview / 15:00
	//	W4  visitor 8, FR: pageview / 12:00, pageview /pricing 12:10, event Signup 12:20
	t.Run("WithoutSessionIDs", func(t *testing.T) {
		site := addSite(t, b).ID
		ev := func(visitor uint64, country string, typ store.EventType, path, name, hms string) store.Event {
			return funnelEvent(site, visitor, 0, country, typ, path, name, hms)
		}
		events := []store.Event{
			ev(7, "DE", store.Pageview, "/", "", "12:00:00"), ev(7, "DE", store.Pageview, "/pricing", "", "12:01:00"),
			ev(7, "DE", store.Custom, "/signup", "Signup", "13:00:00"), ev(7, "DE", store.Pageview, "/", "", "15:00:00"),
			ev(8, "FR", store.Pageview, "/", "", "12:00:00"), ev(8, "FR", store.Pageview, "/pricing", "", "12:10:00"),
			ev(8, "FR", store.Custom, "/signup", "Signup", "12:20:00"),
		}
		steps := map[string][]string{}
		c := func(name string, filters []store.Filter, want ...handRow) handCase {
			steps[name] = inOrder
			return handCase{name: name, dim: store.DimFunnel, filters: filters, want: want}
		}
		checkHandCases(t, b, site, events, funnelGoals, steps, []handCase{
			// Step 1: W1, W3, W4; step 2: W1, W4; step 3: W4 (W2's
			// Signup is a visit of its own).
			c("InOrder", any, step("1", 2, 3), step("2", 2, 2), step("3", 1, 1)),
			c("Filtered", []store.Filter{f(store.DimCountry, "==", "DE")}, step("1", 1, 2), step("2", 1, 1)),
		})
	})
}

// RunFunnelsFromVisits checks that a funnel narrowed by the daily visit
// rows (store.FilteredBreakdownQuery.FromVisits) reads the visits it must,
// over three days (D1 = PropsDay) of which the aggregator has seen the
// first two (the third is fresh: no visit rows), funnel Home, Pricing,
// Signup:
//
//	X1  visitor 11, DE: / D1 10:00, /pricing 10:01, Signup 10:02
//	X2  visitor 11, FR: / D1 14:00, /pricing 14:01 (another visit, the same visitor)
//	X3  visitor 12: / D1 23:58 (DE), /pricing D2 00:01 and Signup 00:02 (US, plan=pro):
//	    one visit of the period, DE; its daily rows are DE with / and US with /pricing
//	X4  visitor 13, no session id, FR: / D1 23:50, /pricing D2 00:10, Signup 00:15
//	X5  visitor 13, no session id, DE: / D2 12:00, /pricing 12:01
//	X6  visitor 14, DE: / D3 09:00, /pricing 09:01 (fresh only)
//	X7  visitor 15, FR: / D2 23:59, /pricing D3 00:01, Signup 00:02 (/pricing fresh only)
//	X8  visitor 16, DE: / D1 00:00:00 (the range's first second), /pricing 00:01
//	X9  visitor 17, FR: / D3 23:58, /pricing 23:59, Signup 23:59:59 (its last second)
//
// Each answer is worked out by hand and must equal the one from every
// event, with D3 fresh and with every day aggregated.
func RunFunnelsFromVisits(t *testing.T, open func(t *testing.T) VisitBackend) {
	ctx := context.Background()
	b := open(t)
	site := addSite(t, b).ID
	ev := func(visitor, session uint64, country string, typ store.EventType, path, name string, day int, hms string) store.Event {
		e := funnelEvent(site, visitor, session, country, typ, path, name, hms)
		e.Time = e.Time.AddDate(0, 0, day-1)
		e.ReceivedAt = e.Time
		return e
	}
	pv := func(visitor, session uint64, country, path string, day int, hms string) store.Event {
		return ev(visitor, session, country, store.Pageview, path, "", day, hms)
	}
	signup := func(visitor, session uint64, country string, day int, hms string) store.Event {
		return ev(visitor, session, country, store.Custom, "/signup", "Signup", day, hms)
	}
	events := []store.Event{
		pv(11, 21, "DE", "/", 1, "10:00:00"), pv(11, 21, "DE", "/pricing", 1, "10:01:00"), signup(11, 21, "DE", 1, "10:02:00"),
		pv(11, 22, "FR", "/", 1, "14:00:00"), pv(11, 22, "FR", "/pricing", 1, "14:01:00"),
		pv(12, 23, "DE", "/", 1, "23:58:00"), pv(12, 23, "US", "/pricing", 2, "00:01:00"), signup(12, 23, "US", 2, "00:02:00"),
		pv(13, 0, "FR", "/", 1, "23:50:00"), pv(13, 0, "FR", "/pricing", 2, "00:10:00"), signup(13, 0, "FR", 2, "00:15:00"),
		pv(13, 0, "DE", "/", 2, "12:00:00"), pv(13, 0, "DE", "/pricing", 2, "12:01:00"),
		pv(14, 24, "DE", "/", 3, "09:00:00"), pv(14, 24, "DE", "/pricing", 3, "09:01:00"),
		pv(15, 25, "FR", "/", 2, "23:59:00"), pv(15, 25, "FR", "/pricing", 3, "00:01:00"), signup(15, 25, "FR", 3, "00:02:00"),
		pv(16, 26, "DE", "/", 1, "00:00:00"), pv(16, 26, "DE", "/pricing", 1, "00:01:00"),
		pv(17, 27, "FR", "/", 3, "23:58:00"), pv(17, 27, "FR", "/pricing", 3, "23:59:00"), signup(17, 27, "FR", 3, "23:59:59"),
	}
	events[7].Props = []store.Prop{{Key: "plan", Value: "pro"}}
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	day := 24 * time.Hour
	from, fresh, to := PropsDay, PropsDay.Add(2*day), PropsDay.Add(3*day)
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	step := func(n string, visitors, visits uint64) handRow {
		return handRow{value: n, visitors: visitors, visits: visits}
	}
	cases := []handCase{
		{"Country", store.DimFunnel, []store.Filter{f(store.DimCountry, "==", "DE")},
			[]handRow{step("1", 5, 5), step("2", 5, 5), step("3", 2, 2)}}, // X1, X3, X5, X6, X8
		{"CountryContains", store.DimFunnel, []store.Filter{f(store.DimCountry, "~", "d")},
			[]handRow{step("1", 5, 5), step("2", 5, 5), step("3", 2, 2)}},
		{"CountryNotEqual", store.DimFunnel, []store.Filter{f(store.DimCountry, "!=", "DE")},
			[]handRow{step("1", 4, 4), step("2", 4, 4), step("3", 3, 3)}}, // X2, X4, X7, X9
		// X3's second daily row is US; the visit is DE.
		{"LaterPartOnly", store.DimFunnel, []store.Filter{f(store.DimCountry, "==", "US")}, nil},
		// X3 passes each filter in another daily row; X7's /pricing is fresh.
		{"SessionAndEvent", store.DimFunnel, []store.Filter{f(store.DimCountry, "==", "DE"), f(store.DimPage, "==", "/pricing")},
			[]handRow{step("1", 5, 5), step("2", 5, 5), step("3", 2, 2)}},
		{"Event", store.DimFunnel, []store.Filter{f(store.DimPage, "==", "/pricing")},
			[]handRow{step("1", 7, 9), step("2", 7, 9), step("3", 5, 5)}},
		// The last event's page: X1, X3, X4, X7 (whose second daily rows
		// have it) and X9.
		{"ExitPage", store.DimFunnel, []store.Filter{f(store.DimExitPage, "==", "/signup")},
			[]handRow{step("1", 5, 5), step("2", 5, 5), step("3", 5, 5)}},
		{"Property", store.DimFunnel, []store.Filter{f("props:plan", "==", "pro")},
			[]handRow{step("1", 1, 1), step("2", 1, 1), step("3", 1, 1)}},
	}
	check := func(fresh time.Time) {
		t.Helper()
		for _, c := range cases {
			every, narrowed := everyAndNarrowed(t, b, store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimFunnel,
				Filters: c.filters, From: from, To: to, Goals: funnelGoals, Funnel: []string{"Home", "Pricing", "Signup"}}, fresh)
			for _, rows := range [][]store.RollupRow{every, narrowed} {
				var hand []handRow
				for _, r := range rows {
					hand = append(hand, handRow{value: r.Value, visitors: r.Visitors, visits: r.Visits})
				}
				if diff := gocmp.Diff(c.want, hand, gocmp.AllowUnexported(handRow{}), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s, fresh from %v (every event, then narrowed): steps (-want +got):\n%s", c.name, fresh, diff)
				}
			}
		}
	}
	aggregate := func(from, to time.Time) {
		t.Helper()
		if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: from, To: to, Version: 1}); err != nil {
			t.Fatalf("ReplaceRollups: %v", err)
		}
	}
	aggregate(from, fresh)
	check(fresh)
	aggregate(fresh, to)
	check(to)
}

// everyAndNarrowed is q's answer from every event, then narrowed by the
// visit rows (FromVisits, Fresh fresh), each sorted.
func everyAndNarrowed(t *testing.T, b VisitBackend, q store.FilteredBreakdownQuery, fresh time.Time) (every, narrowed []store.RollupRow) {
	t.Helper()
	ctx := context.Background()
	every, err := b.FilteredBreakdown(ctx, q)
	if err != nil {
		t.Fatalf("FilteredBreakdown: %v", err)
	}
	q.FromVisits, q.Fresh = true, fresh
	narrowed, err = b.FilteredBreakdown(ctx, q)
	if err != nil {
		t.Fatalf("FilteredBreakdown from visits: %v", err)
	}
	sortRollups(every)
	sortRollups(narrowed)
	return every, narrowed
}
