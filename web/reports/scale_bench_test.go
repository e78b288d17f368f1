package reports_test

import (
	"context"
	_ "embed"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/reports"
)

//go:embed testdata/bench_generate.sql
var benchGenerate string

// exactBase is where every exact pass reads: the period's raw events,
// deduplicated, bots left out.
const exactBase = " FROM events FINAL WHERE site_id = @site AND ts >= @from AND ts < @to AND bot = 0"

// funnelExact is the exact pass of benchConfig's funnel: ClickHouse's own
// windowFunnel per visit (the generated visits have session ids; a window
// longer than the period), then per step the visits and visitors that
// reached it.
func funnelExact(filter string) string {
	return "SELECT toUInt64(j), uniqExact(visitor_key), count() FROM (SELECT visitor_key, session_id, windowFunnel(4000000)(ts, type = 'pageview' AND path = '/', " +
		"type = 'pageview' AND path = '/pricing', type IN ('click', 'event') AND name = 'signup') AS level" + exactBase + filter +
		" GROUP BY visitor_key, session_id) ARRAY JOIN range(level) AS j GROUP BY j"
}

// goalsExact is the exact pass of benchConfig's goals breakdown: per
// goal the visitors and visits with an event that reached it, and under
// "*" the period's visitors (the conversion rates' base), in one pass.
func goalsExact(filter string) string {
	return "SELECT g, uniqExact(visitor_key), uniqExact(session_id) FROM (SELECT visitor_key, session_id, arrayJoin(arrayConcat(['*'], arrayFilter(x -> x != '', [" +
		"if(type = 'pageview' AND path = '/', 'Home', ''), if(type = 'pageview' AND path = '/pricing', 'Pricing', ''), " +
		"if(type IN ('click', 'event') AND name = 'signup', 'Signup', '')]))) AS g" + exactBase + filter + ") GROUP BY g"
}

// generateMonth is a fresh store with n events of the month before the
// returned end generated inside ClickHouse (testdata/bench_generate.sql)
// for the site, and a connection of its own to the same database.
func generateMonth(tb testing.TB, n int) (*clickhouse.Store, ch.Conn, store.Site, time.Time) {
	tb.Helper()
	st, opts, site := benchStore(tb)
	conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database}, ReadTimeout: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.Exec(context.Background(), benchGenerate, ch.Named("site", site.ID), ch.Named("end", uint32(scaleEnd.Unix())), ch.Named("n", n)); err != nil {
		tb.Fatal(err)
	}
	return st, conn, site, scaleEnd
}

// BenchmarkReportsScale generates FOOTFALL_BENCH_EVENTS events inside
// ClickHouse (testdata/bench_generate.sql, seconds, not minutes),
// aggregates them, and reports per query Footfall's time, the time of
// one exact ClickHouse pass that answers the same question (FINAL,
// uniqExact, the same filters; the generated visits keep their session
// values on every event, so filtering events filters visits) and their
// ratio; and the aggregation's time and ratio to one exact GROUP BY pass.
// Skipped unless set:
//
//	FOOTFALL_BENCH_EVENTS=10000000 go test ./web/reports -run '^$' -bench ReportsScale -benchtime 5x -timeout 3h
func BenchmarkReportsScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set FOOTFALL_BENCH_EVENTS (raw events to generate, e.g. 10000000) to run")
	}
	ctx := context.Background()
	t0 := time.Now()
	st, conn, site, end := generateMonth(b, n)
	from := scaleFrom
	b.Logf("%d events generated in %s", n, time.Since(t0).Round(time.Millisecond))
	args := []any{ch.Named("site", site.ID), ch.Named("from", uint32(from.Unix())), ch.Named("to", uint32(end.Unix())), ch.Named("mid", uint32(scaleMid.Unix()))}
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
		Reports: reports.New(reports.Options{Store: st, Config: benchConfig, Now: func() time.Time { return end.Add(-time.Hour) }, Budget: time.Hour})})
	token := f.Token(auth.RoleAnalyst)
	visits := "uniqExact(visitor_key), uniqExact(session_id), countIf(type = 'pageview')"
	sessions := func(where string) string {
		return " AND session_id IN (SELECT session_id" + exactBase + where + ")"
	}
	const planValue, planVisits = "prop_values[indexOf(prop_keys, 'plan')] AS plan", "uniqExact(visitor_key), uniqExact(session_id), count()"
	// One exact pass answers both halves: the events of the month, grouped
	// by the half they fall in.
	bothHalves := func(where string) string {
		return "SELECT ts >= @mid AS second, " + visits + exactBase + where + " GROUP BY second"
	}
	cases := scaleCases(b, map[string]string{
		"compare":                    bothHalves(""),
		"compare/country==DE":        bothHalves(" AND country = 'DE'"),
		"compare/two":                bothHalves(" AND country = 'DE' AND device = 'mobile'"),
		"aggregate":                  "SELECT " + visits + exactBase,
		"aggregate/country==DE":      "SELECT " + visits + exactBase + " AND country = 'DE'",
		"aggregate/source!=direct":   "SELECT " + visits + exactBase + " AND source != 'direct'",
		"aggregate/two":              "SELECT " + visits + exactBase + " AND country = 'DE' AND device = 'mobile'",
		"aggregate/session+event":    "SELECT " + visits + exactBase + " AND country = 'DE'" + sessions(" AND path = '/pricing'"),
		"timeseries/two":             "SELECT toDate(ts) AS d, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY d",
		"breakdown/source/two":       "SELECT source, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY source",
		"breakdown/page/country==DE": "SELECT path, " + visits + exactBase + " AND country = 'DE' GROUP BY path",
		"aggregate/page~+session":    "SELECT " + visits + exactBase + " AND country = 'DE'" + sessions(" AND position(lower(path), 'pric') > 0"),
		"aggregate/event!=+session": "SELECT " + visits + exactBase + " AND device = 'mobile' AND session_id NOT IN (SELECT session_id" +
			exactBase + " AND name = 'signup')",
		"breakdown/page/two": "SELECT path, " + visits + exactBase + " AND country = 'DE' AND device = 'mobile' GROUP BY path",
		// The events carrying plan: their visitors, visits and count.
		"breakdown/props:plan":             "SELECT " + planValue + ", " + planVisits + exactBase + " AND has(prop_keys, 'plan') GROUP BY plan",
		"breakdown/props:plan/country==DE": "SELECT " + planValue + ", " + planVisits + exactBase + " AND has(prop_keys, 'plan') AND country = 'DE' GROUP BY plan",
		"funnel":                           funnelExact(""),
		"funnel/country==DE":               funnelExact(" AND country = 'DE'"),
		"goals":                            goalsExact(""),
		"goals/country==DE":                goalsExact(" AND country = 'DE'"),
		"aggregate/goal+session":           "SELECT " + visits + exactBase + " AND country = 'DE'" + sessions(" AND type IN ('click', 'event') AND name = 'signup'"),
	})
	timeScaleCases(b, h, token, cases, exact, false, func(b *testing.B, c scaleCase, body []byte) {
		if strings.HasPrefix(c.path, "funnel") {
			checkFunnel(b, body, funnelSteps(b, conn, c.exact, args))
		}
	})
}

// funnelSteps runs a funnel's exact pass (funnelExact, steps from 0) and
// returns per step (from 1) its visitors and visits.
func funnelSteps(b *testing.B, conn ch.Conn, exact string, args []any) map[uint64][2]uint64 {
	b.Helper()
	rows, err := conn.Query(context.Background(), exact, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	return scanSteps(b, rows, 1)
}

// median is the middle of ds (the upper middle of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
