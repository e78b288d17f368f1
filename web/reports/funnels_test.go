package reports_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/auth"
)

// TestFunnels asks the stats API for a funnel over the funnel fixture
// (storetest.FunnelEvents, answers worked out there): its steps' visitors,
// visits, drop-off and conversion, in JSON and CSV, under a filter and the
// same filter as a saved segment; a step may be a goal of the admin API.
func TestFunnels(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if err := e.st.InsertEvents(context.Background(), storetest.FunnelEvents(e.site.ID)); err != nil {
			t.Fatal(err)
		}
		e.cfg.Sites = append(e.cfg.Sites, config.Site{Domain: "shop.example",
			Goals: []config.Goal{{Name: "Home", Page: "/"}, {Name: "Pricing", Page: "/pricing"}},
			Funnels: []config.Funnel{
				{Name: "Buy", Steps: []string{"Home", "Pricing", "Signup"}},
				{Name: "Gone", Steps: []string{"Home", "Removed"}},
			}})
		if err := e.st.PutGoal(context.Background(), store.SiteGoal{ID: "g1", SiteID: e.site.ID,
			Goal: store.Goal{Name: "Signup", Event: "Signup"}, CreatedAt: day3}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.PutSegment(context.Background(), store.Segment{ID: "0123456789abcdef0123456789abcdef", SiteID: e.site.ID,
			Name: "DE", Filters: "country==DE", CreatedAt: day3}); err != nil {
			t.Fatal(err)
		}
		const q = "/api/v1/stats/funnel?site=shop.example&period=day&date=2026-03-02&funnel=Buy"
		type answer struct {
			Funnel  string           `json:"funnel"`
			From    string           `json:"from"`
			Results []map[string]any `json:"results"`
		}
		step := func(n float64, goal string, visitors, visits, drop, dropRate, conv float64) map[string]any {
			return map[string]any{"step": n, "goal": goal, "visitors": visitors, "visits": visits,
				"dropoff": drop, "dropoff_rate": dropRate, "conversion_rate": conv}
		}
		var got answer
		e.getJSON(t, q, &got)
		want := []map[string]any{step(1, "Home", 5, 6, 0, 0, 100), step(2, "Pricing", 3, 3, 2, 40, 60), step(3, "Signup", 1, 1, 2, 66.7, 20)}
		if diff := cmp.Diff(want, got.Results); diff != "" || got.Funnel != "Buy" || got.From != "2026-03-02" {
			t.Errorf("funnel %q from %s (-want +got):\n%s", got.Funnel, got.From, diff)
		}
		wantDE := []map[string]any{step(1, "Home", 4, 4, 0, 0, 100), step(2, "Pricing", 2, 2, 2, 50, 50), step(3, "Signup", 1, 1, 1, 50, 25)}
		for _, filter := range []string{"&filters=country==DE", "&segment=0123456789abcdef0123456789abcdef"} {
			got = answer{}
			e.getJSON(t, q+filter, &got)
			if diff := cmp.Diff(wantDE, got.Results); diff != "" {
				t.Errorf("funnel with %s (-want +got):\n%s", filter, diff)
			}
		}
		csv := e.getCSV(t, q)
		wantCSV := [][]string{{"step", "goal", "visitors", "visits", "dropoff", "dropoff_rate", "conversion_rate"},
			{"1", "Home", "5", "6", "0", "0", "100"}, {"2", "Pricing", "3", "3", "2", "40", "60"}, {"3", "Signup", "1", "1", "2", "66.7", "20"}}
		if diff := cmp.Diff(wantCSV, csv); diff != "" {
			t.Errorf("funnel CSV (-want +got):\n%s", diff)
		}
		// The period counts: the day before has no visits.
		got = answer{}
		e.getJSON(t, "/api/v1/stats/funnel?site=shop.example&period=day&date=2026-03-01&funnel=Buy", &got)
		if diff := cmp.Diff([]map[string]any{step(1, "Home", 0, 0, 0, 0, 0), step(2, "Pricing", 0, 0, 0, 0, 0), step(3, "Signup", 0, 0, 0, 0, 0)}, got.Results); diff != "" {
			t.Errorf("funnel of an empty day (-want +got):\n%s", diff)
		}
		for _, bad := range []string{
			"/api/v1/stats/funnel?site=shop.example&period=day", // no funnel
			"/api/v1/stats/funnel?site=shop.example&funnel=Nope",
			"/api/v1/stats/funnel?site=shop.example&funnel=Gone", // a step no goal names
			q + "&metrics=visitors",
			q + "&filters=funnel==1",
			"/api/v1/stats/breakdown?site=shop.example&property=funnel",
		} {
			if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), bad); rec.Code != http.StatusBadRequest {
				t.Errorf("GET %s: %d %s, want 400", bad, rec.Code, rec.Body)
			}
		}
	})
}
