package reports_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

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
