package storetest

import (
	"context"
	"testing"
	"time"

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
