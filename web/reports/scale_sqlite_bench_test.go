package reports_test

import (
	"context"
	"database/sql"
	_ "embed"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/reports"
)

//go:embed testdata/bench_generate_sqlite.sql
var benchGenerateSQLite string

// exactBaseSQLite is where every exact SQLite pass reads: the period's raw
// events, bots left out.
const exactBaseSQLite = " FROM events WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND bot = 0"

// BenchmarkReportsScaleSQLite is BenchmarkReportsScale on the embedded
// store: FOOTFALL_BENCH_SQLITE_EVENTS events generated inside a SQLite
// file (testdata/bench_generate_sqlite.sql), aggregated by the product's
// aggregator, then each of scaleViews timed through the full router
// against one exact SQL pass over the events table (COUNT(DISTINCT), the
// same filters) in the same process. Skipped unless set:
//
//	FOOTFALL_BENCH_SQLITE_EVENTS=1000000 go test ./web/reports -run '^$' -bench ReportsScaleSQLite -benchtime 3x -timeout 2h
func BenchmarkReportsScaleSQLite(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_SQLITE_EVENTS"))
	if n <= 0 {
		b.Skip("set FOOTFALL_BENCH_SQLITE_EVENTS (raw events to generate, e.g. 1000000) to run")
	}
	ctx := context.Background()
	st := sqlitetest.Open(b)
	site, err := st.AddSite(ctx, aggregator.DemoDomain)
	if err != nil {
		b.Fatal(err)
	}
	// A second handle on the same file for generation and exact passes,
	// so they go through no code of the store.
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	from := end.AddDate(0, 0, -30)
	t0 := time.Now()
	if _, err := db.ExecContext(ctx, benchGenerateSQLite, site.ID, end.Unix(), n); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events generated in %s", n, time.Since(t0).Round(time.Millisecond))
	exact := func(query string) time.Duration {
		t0 := time.Now()
		rows, err := db.QueryContext(ctx, query, site.ID, from.Unix(), end.Unix())
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
	aggExact := exact("SELECT ts / 3600 AS h, path, COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id), COUNT(*)" + exactBaseSQLite + " GROUP BY h, path")
	b.Logf("aggregation %s, exact pass %s, ratio %.1f×", aggTime.Round(time.Millisecond), aggExact.Round(time.Millisecond), aggTime.Seconds()/aggExact.Seconds())

	f := authtest.New(b, st, auth.Options{})
	h := server.New(server.Options{Auth: f.Auth, Store: st,
		Reports: reports.New(reports.Options{Store: st, Now: func() time.Time { return end.Add(-time.Hour) }, Budget: time.Hour})})
	token := f.Token(auth.RoleAnalyst)
	visits := "COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id), SUM(type = 'pageview')"
	sessions := func(where string) string {
		return " AND session_id IN (SELECT session_id" + exactBaseSQLite + where + ")"
	}
	const planExact = "SELECT json_extract(p.value, '$[1]') AS plan, COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id), COUNT(*)" +
		" FROM events, json_each(events.props) p WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND bot = 0 AND props != '[]'" +
		" AND json_extract(p.value, '$[0]') = 'plan'"
	cases := scaleCases(b, map[string]string{
		"aggregate":                  "SELECT " + visits + exactBaseSQLite,
		"aggregate/country==DE":      "SELECT " + visits + exactBaseSQLite + " AND country = 'DE'",
		"aggregate/source!=direct":   "SELECT " + visits + exactBaseSQLite + " AND source != 'direct'",
		"aggregate/two":              "SELECT " + visits + exactBaseSQLite + " AND country = 'DE' AND device = 'mobile'",
		"aggregate/session+event":    "SELECT " + visits + exactBaseSQLite + " AND country = 'DE'" + sessions(" AND path = '/pricing'"),
		"timeseries/two":             "SELECT ts / 86400 AS d, " + visits + exactBaseSQLite + " AND country = 'DE' AND device = 'mobile' GROUP BY d",
		"breakdown/source/two":       "SELECT source, " + visits + exactBaseSQLite + " AND country = 'DE' AND device = 'mobile' GROUP BY source",
		"breakdown/page/country==DE": "SELECT path, " + visits + exactBaseSQLite + " AND country = 'DE' GROUP BY path",
		"aggregate/page~+session":    "SELECT " + visits + exactBaseSQLite + " AND country = 'DE'" + sessions(" AND instr(lower(path), 'pric') > 0"),
		"aggregate/event!=+session": "SELECT " + visits + exactBaseSQLite + " AND device = 'mobile' AND session_id NOT IN (SELECT session_id" +
			exactBaseSQLite + " AND name = 'signup')",
		"breakdown/page/two": "SELECT path, " + visits + exactBaseSQLite + " AND country = 'DE' AND device = 'mobile' GROUP BY path",
		// The events carrying plan: their visitors, visits and count.
		"breakdown/props:plan":             planExact + " GROUP BY plan",
		"breakdown/props:plan/country==DE": planExact + " AND country = 'DE' GROUP BY plan",
	})
	timeScaleCases(b, h, token, cases, exact, nil)
}
