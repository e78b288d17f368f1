package reports_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
)

// scaleViews are the dashboard views a scale benchmark times (those of
// BenchmarkReportsScale without compare and funnels, which need a funnel
// definition and period halves); the benchmark supplies, per name, the one
// exact SQL pass that answers the same question.
var scaleViews = []struct{ name, path string }{
	{"aggregate", "aggregate" + scaleQuery},
	{"aggregate/country==DE", "aggregate" + scaleQuery + "&filters=country==DE"},
	{"aggregate/source!=direct", "aggregate" + scaleQuery + "&filters=source!=direct"},
	{"aggregate/two", "aggregate" + scaleQuery + "&filters=country==DE%3Bdevice==mobile"},
	{"aggregate/session+event", "aggregate" + scaleQuery + "&filters=country==DE%3Bpage==/pricing"},
	{"timeseries/two", "timeseries" + scaleQuery + "&interval=day&filters=country==DE%3Bdevice==mobile"},
	{"breakdown/source/two", "breakdown" + scaleQuery + "&property=source&filters=country==DE%3Bdevice==mobile"},
	{"breakdown/page/country==DE", "breakdown" + scaleQuery + "&property=page&filters=country==DE"},
	{"aggregate/page~+session", "aggregate" + scaleQuery + "&filters=page~PRIC%3Bcountry==DE"},
	{"aggregate/event!=+session", "aggregate" + scaleQuery + "&filters=event_name!=signup%3Bdevice==mobile"},
	{"breakdown/page/two", "breakdown" + scaleQuery + "&property=page&filters=country==DE%3Bdevice==mobile"},
}

const scaleQuery = "?site=" + aggregator.DemoDomain + "&period=30d&metrics=visitors,visits,pageviews"

type scaleCase struct{ name, path, exact string }

// scaleCases pairs every view with its exact pass; a view without one
// fails the benchmark, so the backends keep timing the same list.
func scaleCases(b *testing.B, exacts map[string]string) []scaleCase {
	b.Helper()
	var cases []scaleCase
	for _, v := range scaleViews {
		ex, ok := exacts[v.name]
		if !ok {
			b.Fatalf("no exact pass for view %s", v.name)
		}
		cases = append(cases, scaleCase{v.name, v.path, ex})
	}
	if len(exacts) != len(scaleViews) {
		b.Fatalf("%d exact passes for %d views", len(exacts), len(scaleViews))
	}
	return cases
}

// serveView runs one stats request through the full router and returns
// how long it took.
func serveView(b *testing.B, h http.Handler, token, path string) time.Duration {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	t0 := time.Now()
	h.ServeHTTP(rec, req)
	took := time.Since(t0)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
	}
	return took
}
