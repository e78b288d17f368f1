package reports_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/reports"
)

// BenchmarkReportsClickHouse measures the stats API on ClickHouse over 30
// days of generated data (aggregator.DemoData: copies of the demo month,
// about 22,000 events each, until FOOTFALL_BENCH_EVENTS events), aggregated
// first. It reports p50 and p99 latency in milliseconds of each query
// (FOOTFALL_BENCH_RUNS requests each, default 60), unfiltered, with one
// filter and with two, through the full router. Skipped unless set:
//
//	FOOTFALL_BENCH_EVENTS=2000000 FOOTFALL_BENCH_RUNS=10 go test ./web/reports -run '^$' -bench ReportsClickHouse -benchtime 1x -timeout 3h
func BenchmarkReportsClickHouse(b *testing.B) {
	want, _ := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_EVENTS"))
	if want <= 0 {
		b.Skip("set FOOTFALL_BENCH_EVENTS (raw events to generate, e.g. 220000) to run")
	}
	runs := 60
	if n, err := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	ctx := context.Background()
	st, _, site := benchStore(b)
	end := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	var total int
	var batch []store.Event
	flush := func() {
		// Large batches: each insert is a part, and 18.16 throttles at
		// 150 parts per partition.
		if err := st.InsertEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for seed := uint64(1); total < want; seed++ {
		events, _ := aggregator.DemoData(site.ID, end, 30, seed)
		total += len(events)
		batch = append(batch, events...)
		if len(batch) >= 250_000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	start := time.Now()
	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return end }})
	if sum, err := agg.Once(ctx); err != nil || sum.Failed != 0 {
		b.Fatalf("aggregate: %+v %v", sum, err)
	}
	b.Logf("%d events over 30 days; aggregated in %s", total, time.Since(start).Round(time.Millisecond))
	f := authtest.New(b, st, auth.Options{})
	h := server.New(server.Options{Auth: f.Auth, Store: st,
		Reports: reports.New(reports.Options{Store: st, Config: benchGoals, Now: func() time.Time { return end }})})
	token := f.Token(auth.RoleAnalyst)
	base := "/api/v1/stats/"
	q := "?site=" + aggregator.DemoDomain + "&period=30d"
	agg4 := "&metrics=visitors,visits,pageviews,bounce_rate"
	two := "&filters=country==DE%3Bpage==/pricing"
	cases := []struct{ name, path string }{
		{"aggregate", base + "aggregate" + q + agg4},
		{"aggregate/country==DE", base + "aggregate" + q + agg4 + "&filters=country==DE"},
		{"aggregate/source!=direct", base + "aggregate" + q + agg4 + "&filters=source!=direct"},
		{"aggregate/two", base + "aggregate" + q + agg4 + two},
		{"aggregate/two+compare", base + "aggregate" + q + agg4 + two + "&compare=previous_period"},
		{"timeseries", base + "timeseries" + q + "&metrics=visitors,pageviews"},
		{"timeseries/country==DE", base + "timeseries" + q + "&metrics=visitors,pageviews&filters=country==DE"},
		{"timeseries/two", base + "timeseries" + q + "&metrics=visitors,pageviews" + two},
		{"breakdown", base + "breakdown" + q + "&property=page&metrics=visits,pageviews"},
		{"breakdown/visitors", base + "breakdown" + q + "&property=entry_page&metrics=visitors,visits,pageviews"},
		{"breakdown/page~blog", base + "breakdown" + q + "&property=page&metrics=visits,pageviews&filters=page~blog"},
		{"breakdown/page==/pricing", base + "breakdown" + q + "&property=country&metrics=visitors,visits,pageviews&filters=page==/pricing"},
		{"breakdown/two", base + "breakdown" + q + "&property=source&metrics=visitors,visits,pageviews" + two},
		// The goals: one raw pass for the conversions, one more for the
		// event goals' revenue; a goal filter alone is one raw pass.
		{"breakdown/goals", base + "breakdown" + q + "&property=goal&metrics=visitors,visits"},
		{"aggregate/goal==CTA", base + "aggregate" + q + "&metrics=visitors,visits&filters=goal==CTA"},
	}
	b.ResetTimer()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				var lat []time.Duration
				for range runs {
					req := httptest.NewRequest(http.MethodGet, c.path, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					rec := httptest.NewRecorder()
					t0 := time.Now()
					h.ServeHTTP(rec, req)
					lat = append(lat, time.Since(t0))
					if rec.Code != http.StatusOK {
						b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
					}
				}
				slices.Sort(lat)
				ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
				b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
				b.ReportMetric(ms(lat[len(lat)*99/100]), "p99_ms")
			}
		})
	}
}

// benchGoals are the demo site's goals in the benchmark: its key-element
// clicks (an event goal) and a page.
var benchGoals = &config.Config{Sites: []config.Site{{Domain: aggregator.DemoDomain, Goals: []config.Goal{
	{Name: "CTA", Event: "cta"}, {Name: "Pricing", Page: "/pricing"},
}}}}

// benchStore is a fresh ClickHouse database for a benchmark, with long
// read timeouts and the demo site; it closes with b.
func benchStore(b testing.TB) (*clickhouse.Store, clickhouse.Options, store.Site) {
	b.Helper()
	opts := chtest.NewDatabase(b)
	opts.ReadTimeout = time.Hour
	st, err := clickhouse.Open(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	site, err := st.AddSite(context.Background(), aggregator.DemoDomain)
	if err != nil {
		b.Fatal(err)
	}
	return st, opts, site
}
