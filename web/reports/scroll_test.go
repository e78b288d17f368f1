package reports_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/auth"
)

// TestScrollDepth asks the stats API for the pages' scroll depth over
// storetest.ScrollEvents (answers worked out there): the average of each
// page's deepest depths per visit, page views without one left out (null
// in JSON, an empty CSV cell when a page has none), under a filter too;
// scroll_depth with another property, or in an aggregate, is a 400.
func TestScrollDepth(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		if err := e.st.InsertEvents(context.Background(), storetest.ScrollEvents(e.site.ID)); err != nil {
			t.Fatal(err)
		}
		aggregatePropsDay(t, e)
		const q = "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=page&metrics=pageviews,scroll_depth"
		var got struct {
			Results []map[string]any `json:"results"`
		}
		e.getJSON(t, q, &got)
		want := []map[string]any{
			{"page": "/a", "pageviews": 3.0, "scroll_depth": 45.0},
			{"page": "/b", "pageviews": 2.0, "scroll_depth": 100.0},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("pages with scroll depth (-want +got):\n%s", diff)
		}
		wantCSV := [][]string{{"page", "pageviews", "scroll_depth"}, {"/a", "3", "45"}, {"/b", "2", "100"}}
		if diff := cmp.Diff(wantCSV, e.getCSV(t, q)); diff != "" {
			t.Errorf("pages CSV (-want +got):\n%s", diff)
		}

		got.Results = nil
		e.getJSON(t, q+"&filters=country==FR", &got)
		want = []map[string]any{ // equal pageviews: by path
			{"page": "/a", "pageviews": 1.0, "scroll_depth": 20.0},
			{"page": "/b", "pageviews": 1.0, "scroll_depth": nil},
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("pages of FR with scroll depth (-want +got):\n%s", diff)
		}
		wantCSV = [][]string{{"page", "pageviews", "scroll_depth"}, {"/a", "1", "20"}, {"/b", "1", ""}}
		if diff := cmp.Diff(wantCSV, e.getCSV(t, q+"&filters=country==FR")); diff != "" {
			t.Errorf("pages CSV of FR (-want +got):\n%s", diff)
		}

		// The pages by scroll depth, deepest first, as the dashboard sorts.
		got.Results = nil
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=page&metrics=scroll_depth", &got)
		if len(got.Results) != 2 || got.Results[0]["page"] != "/b" || got.Results[1]["page"] != "/a" {
			t.Errorf("pages by scroll depth: %v, want /b then /a", got.Results)
		}

		for _, bad := range []string{
			"/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=country&metrics=scroll_depth",
			"/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-02&metrics=scroll_depth",
			"/api/v1/stats/timeseries?site=shop.example&period=day&date=2026-03-02&metrics=visitors,scroll_depth",
			"/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-02&property=scroll_depth",
		} {
			if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), bad); rec.Code != http.StatusBadRequest {
				t.Errorf("GET %s: %d %s, want 400", bad, rec.Code, rec.Body)
			}
		}
	})
}
