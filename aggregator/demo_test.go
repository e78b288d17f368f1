package aggregator_test

import (
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
)

// The demo's two months are steady (the dashboard's 30 days compare with
// a full previous period) and hold refusals as well as grants.
func TestDemoDataIsSteadyWithRefusals(t *testing.T) {
	end := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	events, records := aggregator.DemoData(1, end, 60, 7)
	mid := end.AddDate(0, 0, -30)
	var before, after int
	for _, e := range events {
		if e.Type != store.Pageview || e.Bot {
			continue
		}
		if e.Time.Before(end.AddDate(0, 0, -60)) || e.Time.After(end) {
			t.Fatalf("event at %s, outside the 60 days up to %s", e.Time, end)
		}
		if e.Time.Before(mid) {
			before++
		} else {
			after++
		}
	}
	if change := float64(after)/float64(before) - 1; before == 0 || change < -0.2 || change > 0.2 {
		t.Errorf("pageviews: %d in the first 30 days, %d in the last 30 (%+.0f%%); want a steady site (within 20%%)", before, after, 100*change)
	}
	refused := 0
	for _, r := range records {
		if r.Action == store.ConsentRejectAll {
			refused++
			if r.Granted.Has(store.ConsentAnalytics) {
				t.Errorf("a reject_all record grants analytics: %+v", r)
			}
		}
	}
	if share := float64(refused) / float64(len(records)); share < 0.1 || share > 0.4 {
		t.Errorf("%d of %d decisions refuse analytics (%.0f%%); want some refusals, most grants", refused, len(records), 100*share)
	}
}
