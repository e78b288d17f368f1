package reports_test

import (
	"context"
	"database/sql"
	_ "embed"
	"os"
	"strconv"
	"strings"
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
	end, from := scaleEnd, scaleFrom
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
		Reports: reports.New(reports.Options{Store: st, Config: benchConfig, Now: func() time.Time { return end.Add(-time.Hour) }, Budget: time.Hour})})
	token := f.Token(auth.RoleAnalyst)
	visits := "COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id), SUM(type = 'pageview')"
	sessions := func(where string) string {
		return " AND session_id IN (SELECT session_id" + exactBaseSQLite + where + ")"
	}
	const planExact = "SELECT json_extract(p.value, '$[1]') AS plan, COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id), COUNT(*)" +
		" FROM events, json_each(events.props) p WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND bot = 0 AND props != '[]'" +
		" AND json_extract(p.value, '$[0]') = 'plan'"
	bothHalves := func(where string) string {
		return "SELECT ts >= " + strconv.FormatInt(scaleMid.Unix(), 10) + " AS second, " + visits + exactBaseSQLite + where + " GROUP BY second"
	}
	cases := scaleCases(b, map[string]string{
		"compare":                    bothHalves(""),
		"compare/country==DE":        bothHalves(" AND country = 'DE'"),
		"compare/two":                bothHalves(" AND country = 'DE' AND device = 'mobile'"),
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
		"funnel":                           funnelExactSQLite(""),
		"funnel/country==DE":               funnelExactSQLite(" AND country = 'DE'"),
		"goals":                            goalsExactSQLite(""),
		"goals/country==DE":                goalsExactSQLite(" AND country = 'DE'"),
		"aggregate/goal+session":           "SELECT " + visits + exactBaseSQLite + " AND country = 'DE'" + sessions(" AND type IN ('click', 'event') AND name = 'signup'"),
	})
	timeScaleCases(b, h, token, cases, exact, true, func(b *testing.B, c scaleCase, body []byte) {
		if strings.HasPrefix(c.path, "funnel") {
			checkFunnel(b, body, funnelStepsSQLite(b, db, c.exact, site.ID, from, end))
		}
	})
}

// funnelExactSQLite is the exact pass of benchConfig's funnel on SQLite:
// per visit the sequence of the steps its events reached, in time order
// (group_concat … ORDER BY ts), then per step the visitors and visits
// whose sequence holds steps 1 to j in order (GLOB '*1*2*').
func funnelExactSQLite(filter string) string {
	return "SELECT j, COUNT(DISTINCT visitor_key), COUNT(*) FROM (SELECT visitor_key, session_id, group_concat(s, '' ORDER BY ts) AS seq FROM (" +
		"SELECT visitor_key, session_id, ts, CASE WHEN type = 'pageview' AND path = '/' THEN '1' WHEN type = 'pageview' AND path = '/pricing' THEN '2' " +
		"WHEN type IN ('click', 'event') AND name = 'signup' THEN '3' END AS s" + exactBaseSQLite + filter + ") WHERE s IS NOT NULL GROUP BY visitor_key, session_id) " +
		"JOIN (SELECT 1 AS j, '*1*' AS pat UNION ALL SELECT 2, '*1*2*' UNION ALL SELECT 3, '*1*2*3*') ON seq GLOB pat GROUP BY j"
}

// goalsExactSQLite is the exact pass of benchConfig's goals breakdown on
// SQLite: one scan of the events (CROSS JOIN keeps them the outer loop),
// each event counted for the goals it reached and for "*", the period's
// visitors (the conversion rates' base).
func goalsExactSQLite(filter string) string {
	return "SELECT g, COUNT(DISTINCT visitor_key), COUNT(DISTINCT session_id) FROM events CROSS JOIN " +
		"(SELECT '*' AS g UNION ALL SELECT 'Home' UNION ALL SELECT 'Pricing' UNION ALL SELECT 'Signup') " +
		"WHERE site_id = ?1 AND ts >= ?2 AND ts < ?3 AND bot = 0" + filter + " AND (g = '*' OR g = 'Home' AND type = 'pageview' AND path = '/' " +
		"OR g = 'Pricing' AND type = 'pageview' AND path = '/pricing' OR g = 'Signup' AND type IN ('click', 'event') AND name = 'signup') GROUP BY g"
}

// funnelStepsSQLite runs a funnel's exact pass (funnelExactSQLite) and
// returns per step its visitors and visits.
func funnelStepsSQLite(b *testing.B, db *sql.DB, exact string, site uint32, from, to time.Time) map[uint64][2]uint64 {
	b.Helper()
	rows, err := db.Query(exact, site, from.Unix(), to.Unix())
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	return scanSteps(b, rows, 0)
}
