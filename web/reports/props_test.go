package reports_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/auth"
)

// TestProps asks the stats API for custom properties over the props
// fixture (storetest.PropsEvents, answers worked out there): a breakdown
// by a key's values and by the keys, in JSON and CSV, and a property as a
// filter.
func TestProps(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if err := e.st.InsertEvents(context.Background(), storetest.PropsEvents(e.site.ID)); err != nil {
			t.Fatal(err)
		}
		// The day's visit rows, which keep the properties.
		aggregatePropsDay(t, e)
		const q = "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&metrics=visitors,visits,events"
		type answer struct {
			Total   int              `json:"total"`
			Results []map[string]any `json:"results"`
		}
		var got answer
		e.getJSON(t, q+"&property=props:plan", &got)
		want := []map[string]any{
			{"props:plan": "pro", "visitors": 2.0, "visits": 2.0, "events": 3.0},
			{"props:plan": "free", "visitors": 1.0, "visits": 1.0, "events": 1.0},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" || got.Total != 2 {
			t.Errorf("props:plan: total %d (-want +got):\n%s", got.Total, diff)
		}
		csv := e.getCSV(t, q+"&property=props:plan")
		if diff := cmp.Diff([][]string{{"props:plan", "visitors", "visits", "events"}, {"pro", "2", "2", "3"}, {"free", "1", "1", "1"}}, csv); diff != "" {
			t.Errorf("props:plan CSV (-want +got):\n%s", diff)
		}
		got = answer{}
		e.getJSON(t, q+"&property=props", &got)
		want = []map[string]any{ // equal visitors: by key
			{"props": "color", "visitors": 2.0, "visits": 2.0, "events": 2.0},
			{"props": "plan", "visitors": 2.0, "visits": 3.0, "events": 4.0},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("props (-want +got):\n%s", diff)
		}
		var agg struct {
			Results map[string]any `json:"results"`
		}
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-02&metrics=visitors,visits,pageviews&filters=props:plan==pro", &agg)
		if diff := cmp.Diff(map[string]any{"visitors": value(2), "visits": value(2), "pageviews": value(2)}, agg.Results); diff != "" {
			t.Errorf("aggregate props:plan==pro (-want +got):\n%s", diff)
		}
		for _, bad := range []string{q + "&property=props:", q + "&property=props:plan&metrics=bounce_rate", q + "&property=page&filters=props:==x"} {
			if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), bad); rec.Code != http.StatusBadRequest {
				t.Errorf("GET %s: %d %s, want 400", bad, rec.Code, rec.Body)
			}
		}
	})
}

func value(x float64) map[string]any { return map[string]any{"value": x} }

// TestGoals asks the stats API for the goals of a site configured over the
// props fixture (storetest.PropsEvents: visitors 1 to 3 on 2026-03-02 in
// visits A to D): conversions and conversion rates per goal, zeros for a
// goal no one reached, a wildcard page goal, the built-in goal 404, and a
// goal as a filter; goals of the config file and of the admin API merged.
func TestGoals(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		events := storetest.PropsEvents(e.site.ID)
		// Visit D's page was not found: its page says so, as documented
		// (the built-in goal 404).
		if err := e.st.InsertEvents(context.Background(), append(events, storetest.NotFoundEvent(events)...)); err != nil {
			t.Fatal(err)
		}
		aggregatePropsDay(t, e)
		e.cfg.Sites = append(e.cfg.Sites, config.Site{Domain: "shop.example", Goals: []config.Goal{
			{Name: "Signup", Event: "Signup"},
			{Name: "Pro signup", Event: "Signup", Props: map[string]string{"plan": "pro"}},
			{Name: "Any page", Page: "/*"},
		}})
		// Goals added through the admin API count alike; one whose name a
		// configured goal has is left out (the config file wins).
		for i, g := range []store.Goal{{Name: "Docs", Page: "/do**"}, {Name: "Never", Event: "Nope"}, {Name: "Signup", Event: "Nope"}} {
			if err := e.st.PutGoal(context.Background(), store.SiteGoal{ID: fmt.Sprint("g", i), SiteID: e.site.ID, Goal: g, CreatedAt: day3}); err != nil {
				t.Fatal(err)
			}
		}
		const q = "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=goal"
		type answer struct {
			Results []map[string]any `json:"results"`
		}
		row := func(goal string, visitors, visits, rate float64) map[string]any {
			return map[string]any{"goal": goal, "visitors": visitors, "visits": visits, "conversion_rate": rate}
		}
		var got answer
		e.getJSON(t, q, &got)
		want := []map[string]any{row("Any page", 3, 4, 100), row("404", 1, 1, 33.3), row("Docs", 1, 1, 33.3),
			row("Pro signup", 1, 1, 33.3), row("Signup", 1, 2, 33.3), row("Never", 0, 0, 0)}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("goals (-want +got):\n%s", diff)
		}
		// Of the visitors from FR (2, 3): the rate is of them.
		got = answer{}
		e.getJSON(t, q+"&filters=country==FR", &got)
		want = []map[string]any{row("Any page", 2, 2, 100), row("404", 1, 1, 50), row("Docs", 1, 1, 50),
			row("Never", 0, 0, 0), row("Pro signup", 0, 0, 0), row("Signup", 0, 0, 0)}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("goals of FR (-want +got):\n%s", diff)
		}
		csv := e.getCSV(t, q+"&metrics=visitors,conversion_rate&limit=2")
		if diff := cmp.Diff([][]string{{"goal", "visitors", "conversion_rate"}, {"Any page", "3", "100"}, {"404", "1", "33.3"}}, csv); diff != "" {
			t.Errorf("goals CSV (-want +got):\n%s", diff)
		}
		// The broken URLs, and the referrers of the visits that hit one.
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=not_found&metrics=visitors,events", &got)
		if diff := cmp.Diff([]map[string]any{{"not_found": "/docs", "visitors": 1.0, "events": 1.0}}, got.Results); diff != "" {
			t.Errorf("not_found (-want +got):\n%s", diff)
		}
		var agg struct {
			Results map[string]any `json:"results"`
		}
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-02&metrics=visitors,visits&filters=goal==Signup", &agg)
		if diff := cmp.Diff(map[string]any{"visitors": value(1), "visits": value(2)}, agg.Results); diff != "" {
			t.Errorf("aggregate goal==Signup (-want +got):\n%s", diff)
		}
		for _, bad := range []string{q + "&filters=goal==Unknown", "/api/v1/stats/breakdown?site=shop.example&property=page&metrics=conversion_rate"} {
			if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), bad); rec.Code != http.StatusBadRequest {
				t.Errorf("GET %s: %d %s, want 400", bad, rec.Code, rec.Body)
			}
		}
	})
}

// TestGoalRevenue asks the stats API for the goals of a site over
// storetest.RevenueEvents (answers worked out there): each event goal's
// revenue per currency, its total and its average per revenue event, in
// JSON and as two CSV columns per currency; a page goal and a goal
// without revenue have none; a filter narrows revenue as it narrows
// conversions.
func TestGoalRevenue(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if err := e.st.InsertEvents(context.Background(), storetest.RevenueEvents(e.site.ID)); err != nil {
			t.Fatal(err)
		}
		aggregatePropsDay(t, e)
		e.cfg.Sites = append(e.cfg.Sites, config.Site{Domain: "shop.example", Goals: []config.Goal{
			{Name: "Purchase", Event: "Purchase"},
			{Name: "Pro purchase", Event: "Purchase", Props: map[string]string{"plan": "pro"}},
			{Name: "Buy", Event: "Buy"},
			{Name: "Shop", Page: "/shop"},
		}})
		const q = "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=goal&metrics=visitors,events"
		var got struct {
			Results []map[string]any `json:"results"`
		}
		e.getJSON(t, q, &got)
		rev := func(currency, total, average string, events float64) map[string]any {
			return map[string]any{"currency": currency, "total": total, "average": average, "events": events}
		}
		want := []map[string]any{
			{"goal": "Purchase", "visitors": 2.0, "events": 5.0, "revenue": []any{
				rev("EUR", "30.0001", "10.00", 3), rev("USD", "5.00", "5.00", 1)}},
			{"goal": "Shop", "visitors": 2.0, "events": 0.0},
			{"goal": "Buy", "visitors": 1.0, "events": 1.0, "revenue": []any{rev("JPY", "100.00", "100.00", 1)}},
			{"goal": "Pro purchase", "visitors": 1.0, "events": 1.0, "revenue": []any{rev("EUR", "19.90", "19.90", 1)}},
			{"goal": "404", "visitors": 0.0, "events": 0.0},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("goals with revenue (-want +got):\n%s", diff)
		}
		csv := e.getCSV(t, q)
		wantCSV := [][]string{
			{"goal", "visitors", "events", "revenue_EUR", "average_revenue_EUR", "revenue_JPY", "average_revenue_JPY", "revenue_USD", "average_revenue_USD"},
			{"Purchase", "2", "5", "30.0001", "10.00", "", "", "5.00", "5.00"},
			{"Shop", "2", "0", "", "", "", "", "", ""},
			{"Buy", "1", "1", "", "", "100.00", "100.00", "", ""},
			{"Pro purchase", "1", "1", "19.90", "19.90", "", "", "", ""},
			{"404", "0", "0", "", "", "", "", "", ""},
		}
		if diff := cmp.Diff(wantCSV, csv); diff != "" {
			t.Errorf("goals CSV (-want +got):\n%s", diff)
		}
		got.Results = nil
		e.getJSON(t, q+"&filters=country==FR", &got)
		want = []map[string]any{ // equal visitors: by name
			{"goal": "Buy", "visitors": 1.0, "events": 1.0, "revenue": []any{rev("JPY", "100.00", "100.00", 1)}},
			{"goal": "Purchase", "visitors": 1.0, "events": 2.0, "revenue": []any{rev("EUR", "0.0001", "0.0001", 1)}},
			{"goal": "Shop", "visitors": 1.0, "events": 0.0},
			{"goal": "404", "visitors": 0.0, "events": 0.0},
			{"goal": "Pro purchase", "visitors": 0.0, "events": 0.0},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("goals of FR with revenue (-want +got):\n%s", diff)
		}
	})
}

// aggregatePropsDay aggregates storetest.PropsDay: the conversion rates'
// base, the visitors of the day, come from its rollups; the goals from
// the raw events; the custom properties from its visit rows.
func aggregatePropsDay(t *testing.T, e *env) {
	t.Helper()
	ag := aggregator.New(aggregator.Options{Store: e.st, Now: func() time.Time { return day3.Add(30 * time.Minute) }})
	if sum, err := ag.Recompute(context.Background(), storetest.PropsDay, storetest.PropsDay.AddDate(0, 0, 1)); err != nil || sum.Failed != 0 {
		t.Fatalf("aggregate: %+v, %v", sum, err)
	}
}
