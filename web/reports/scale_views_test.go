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
	{"breakdown/props:plan", "breakdown" + scaleQuery + "&property=props:plan"},
	{"breakdown/props:plan/country==DE", "breakdown" + scaleQuery + "&property=props:plan&filters=country==DE"},
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

// timeScaleCases times every case through the full router h and its
// exact pass, b.N times each, one after the other, and reports the
// medians and their ratio (-benchtime 5x: five readings each, so one
// disturbed reading on the shared machine does not make the figure).
// check, if not nil, sees each answer.
func timeScaleCases(b *testing.B, h http.Handler, token string, cases []scaleCase, exact func(query string) time.Duration, check func(b *testing.B, c scaleCase, body []byte)) {
	b.ResetTimer()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var tooks, exacts []time.Duration
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/"+c.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				tooks = append(tooks, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
				}
				exacts = append(exacts, exact(c.exact))
				if check != nil {
					check(b, c, rec.Body.Bytes())
				}
			}
			took, ex := median(tooks), median(exacts)
			b.ReportMetric(float64(took.Milliseconds()), "footfall_ms")
			b.ReportMetric(float64(ex.Milliseconds()), "exact_ms")
			b.ReportMetric(took.Seconds()/ex.Seconds(), "ratio")
		})
	}
}
