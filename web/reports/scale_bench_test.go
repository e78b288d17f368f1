package reports_test

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/reports"
)

//go:embed testdata/bench_generate.sql
var benchGenerate string

// exactBase is where every exact pass reads: the period's raw events,
// deduplicated, bots left out.
const exactBase = " FROM events FINAL WHERE site_id = @site AND ts >= @from AND ts < @to AND bot = 0"

// BenchmarkReportsScale generates FOOTFALL_BENCH_EVENTS events inside
// ClickHouse (testdata/bench_generate.sql, seconds, not minutes),
// aggregates them, and reports per query Footfall's time, the time of
// one exact ClickHouse pass that answers the same question (FINAL,
// uniqExact, the same filters; the generated visits keep their session
// values on every event, so filtering events filters visits) and their
// ratio; and the aggregation's time and ratio to one exact GROUP BY pass.
// Skipped unless set:
//
//	FOOTFALL_BENCH_EVENTS=10000000 go test ./web/reports -run '^$' -bench ReportsScale -benchtime 1x -timeout 3h
func BenchmarkReportsScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set FOOTFALL_BENCH_EVENTS (raw events to generate, e.g. 10000000) to run")
	}
	ctx := context.Background()
	st, opts, site := benchStore(b)
	conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database}, ReadTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	from := end.AddDate(0, 0, -30)
	t0 := time.Now()
	if err := conn.Exec(ctx, benchGenerate, ch.Named("site", site.ID), ch.Named("end", uint32(end.Unix())), ch.Named("n", n)); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events generated in %s", n, time.Since(t0).Round(time.Millisecond))
	args := []any{ch.Named("site", site.ID), ch.Named("from", uint32(from.Unix())), ch.Named("to", uint32(end.Unix()))}
	exact := func(query string) time.Duration {
		t0 := time.Now()
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			b.Fatalf("%s: %v", query, err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		return time.Since(t0)
	}

	t0 = time.Now()
	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return end }})
	if sum, err := agg.Once(ctx); err != nil || sum.Failed != 0 {
		b.Fatalf("aggregate: %+v %v", sum, err)
	}
	aggTime := time.Since(t0)
	aggExact := exact("SELECT toStartOfHour(ts) AS h, path, uniqExact(visitor_key), uniqExact(session_id), count()" + exactBase + " GROUP BY h, path")
	b.Logf("aggregation %s, exact pass %s, ratio %.1f×", aggTime.Round(time.Millisecond), aggExact.Round(time.Millisecond), aggTime.Seconds()/aggExact.Seconds())

	f := authtest.New(b, st, auth.Options{})
	h := server.New(server.Options{Auth: f.Auth, Store: st,
		Reports: reports.New(reports.Options{Store: st, Now: func() time.Time { return end.Add(-time.Hour) }, Budget: time.Hour})})
	token := f.Token(auth.RoleAnalyst)
	q := "?site=" + aggregator.DemoDomain + "&period=30d&metrics=visitors,visits,pageviews"
	visits := "uniqExact(visitor_key), uniqExact(session_id), countIf(type = 'pageview')"
	pricing := " AND session_id IN (SELECT session_id" + exactBase + " AND path = '/pricing')"
	cases := []struct{ name, path, exact string }{
		{"aggregate", "aggregate" + q, "SELECT " + visits + exactBase},
		{"aggregate/country==DE", "aggregate" + q + "&filters=country==DE", "SELECT " + visits + exactBase + " AND country = 'DE'"},
		{"aggregate/source!=direct", "aggregate" + q + "&filters=source!=direct", "SELECT " + visits + exactBase + " AND source != 'direct'"},
		{"aggregate/two", "aggregate" + q + "&filters=country==DE%3Bdevice==mobile",
			"SELECT " + visits + exactBase + " AND country = 'DE' AND device = 'mobile'"},
		{"aggregate/session+event", "aggregate" + q + "&filters=country==DE%3Bpage==/pricing",
			"SELECT " + visits + exactBase + " AND country = 'DE'" + pricing},
		{"timeseries/two", "timeseries" + q + "&interval=day&filters=country==DE%3Bdevice==mobile",
			"SELECT toDate(ts) AS d, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY d"},
		{"breakdown/source/two", "breakdown" + q + "&property=source&filters=country==DE%3Bdevice==mobile",
			"SELECT source, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY source"},
		{"breakdown/page/country==DE", "breakdown" + q + "&property=page&filters=country==DE",
			"SELECT path, " + visits + exactBase + " AND country = 'DE' GROUP BY path"},
		{"aggregate/page~+session", "aggregate" + q + "&filters=page~PRIC%3Bcountry==DE",
			"SELECT " + visits + exactBase + " AND country = 'DE' AND session_id IN (SELECT session_id" + exactBase + " AND position(lower(path), 'pric') > 0)"},
		{"aggregate/event!=+session", "aggregate" + q + "&filters=event_name!=signup%3Bdevice==mobile",
			"SELECT " + visits + exactBase + " AND device = 'mobile' AND session_id NOT IN (SELECT session_id" + exactBase + " AND name = 'signup')"},
		{"breakdown/page/two", "breakdown" + q + "&property=page&filters=country==DE%3Bdevice==mobile",
			"SELECT path, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY path"},
	}
	b.ResetTimer()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/"+c.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				took := time.Since(t0)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
				}
				ex := exact(c.exact)
				b.ReportMetric(float64(took.Milliseconds()), "footfall_ms")
				b.ReportMetric(float64(ex.Milliseconds()), "exact_ms")
				b.ReportMetric(took.Seconds()/ex.Seconds(), "ratio")
			}
		})
	}
}
