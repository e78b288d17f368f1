package reports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
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

// TestSampledReportsClickHouse generates a month of events inside
// ClickHouse (testdata/bench_generate.sql; FOOTFALL_SAMPLE_EVENTS, default
// 200,000), aggregates it, and asks the same views of two handlers: one
// exact, one sampling above a quarter of the month's events (1/4). The
// sampled answers say "sampled": "1/4", the exact ones nothing; figures
// from the rollups are the same in both; each figure read from the visit
// rows is within three standard errors of the exact one, the standard
// error of a sum over visitors being √((N−1)·Σxᵢ²), xᵢ a visitor's part of
// it (1 for visitors), computed here from the visit rows themselves
// (docs/reports.md). The times of both are logged, not asserted.
func TestSampledReportsClickHouse(t *testing.T) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("FOOTFALL_SAMPLE_EVENTS")); err == nil && v > 0 {
		n = v
	}
	const rate = 4
	ctx := context.Background()
	st, conn, site, end := generateMonth(t, n)
	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return end }})
	if sum, err := agg.Once(ctx); err != nil || sum.Failed != 0 {
		t.Fatalf("aggregate: %+v %v", sum, err)
	}
	f := authtest.New(t, st, auth.Options{})
	token := f.Token(auth.RoleAnalyst)
	handler := func(above uint64) http.Handler {
		return server.New(server.Options{Auth: f.Auth, Store: st, Reports: reports.New(reports.Options{Store: st, Config: benchConfig,
			Now: func() time.Time { return end.Add(-time.Hour) }, Budget: time.Hour, SampleAbove: above})})
	}
	exactH, sampledH := handler(0), handler(uint64(n/rate))
	get := func(h http.Handler, path string) (map[string]any, time.Duration) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(rec, req)
		took := time.Since(t0)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out, took
	}
	// bound is three standard errors of each metric of the visits with
	// the given session values (and per value of by, if set): from the
	// month's daily visit rows, the exact answer's source.
	bound := func(by string, where map[string]string) map[string]map[string]float64 {
		t.Helper()
		cond := ""
		for d, v := range where {
			cond += fmt.Sprintf(" AND arrayElement(session_values, indexOf(session_dims, '%s')) = '%s'", d, v)
		}
		key := "''"
		if by != "" {
			key = fmt.Sprintf("arrayElement(session_values, indexOf(session_dims, '%s'))", by)
		}
		rows, err := conn.Query(ctx, "SELECT k, count(), sum(v*v), sum(p*p) FROM (SELECT "+key+" AS k, visitor_key, count() AS v, sum(pageviews) AS p"+
			" FROM visits WHERE site_id = @site AND granularity = 'day' AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')"+
			cond+" GROUP BY k, visitor_key) GROUP BY k",
			ch.Named("site", site.ID), ch.Named("from", uint32(end.AddDate(0, 0, -30).Unix())), ch.Named("to", uint32(end.Unix())))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]map[string]float64{}
		for rows.Next() {
			var k string
			var visitors, v2, p2 uint64
			if err := rows.Scan(&k, &visitors, &v2, &p2); err != nil {
				t.Fatal(err)
			}
			se := func(sumSq uint64) float64 { return 3 * math.Sqrt((rate-1)*float64(sumSq)) }
			out[k] = map[string]float64{"visitors": se(visitors), "visits": se(v2), "pageviews": se(p2)}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	within := func(view, metric string, got, want, limit float64) {
		t.Helper()
		if math.Abs(got-want) > limit {
			t.Errorf("%s %s: sampled %v, exact %v: off by %.0f, more than three standard errors (%.0f)", view, metric, got, want, math.Abs(got-want), limit)
		} else {
			t.Logf("%s %s: sampled %v, exact %v (%.1f%%; bound %.0f)", view, metric, got, want, 100*(got-want)/want, limit)
		}
	}
	metrics := []string{"visitors", "visits", "pageviews"}
	two := map[string]string{"country": "DE", "device": "mobile"}
	for _, c := range []struct {
		name, path string
		// fromRollups are the metrics the rollups answer: exact in both.
		fromRollups []string
		where       map[string]string
		by          string
	}{
		{"aggregate", "aggregate" + scaleQuery, []string{"visits", "pageviews"}, nil, ""},
		{"aggregate/two", "aggregate" + scaleQuery + "&filters=country==DE%3Bdevice==mobile", nil, two, ""},
		{"breakdown/source/two", "breakdown" + scaleQuery + "&property=source&filters=country==DE%3Bdevice==mobile", nil, two, "source"},
		{"timeseries/two", "timeseries" + scaleQuery + "&interval=day&filters=country==DE%3Bdevice==mobile", nil, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			exact, exactTook := get(exactH, c.path)
			sampled, sampledTook := get(sampledH, c.path)
			t.Logf("%d events: exact %s, sampled 1/%d %s", n, exactTook.Round(time.Millisecond), rate, sampledTook.Round(time.Millisecond))
			if got, ok := exact["sampled"]; ok {
				t.Errorf("exact answer: sampled = %v, want no mark", got)
			}
			if got := sampled["sampled"]; got != fmt.Sprintf("1/%d", rate) {
				t.Fatalf("sampled answer: sampled = %v, want 1/%d", got, rate)
			}
			switch c.name {
			case "aggregate", "aggregate/two":
				limits := bound("", c.where)[""]
				er, sr := exact["results"].(map[string]any), sampled["results"].(map[string]any)
				for _, m := range metrics {
					want, got := er[m].(map[string]any)["value"].(float64), sr[m].(map[string]any)["value"].(float64)
					limit := limits[m]
					if slices.Contains(c.fromRollups, m) {
						limit = 0
					}
					within(c.name, m, got, want, limit)
				}
			case "breakdown/source/two":
				limits := bound(c.by, c.where)
				want := map[string]map[string]any{}
				for _, r := range exact["results"].([]any) {
					row := r.(map[string]any)
					want[row["source"].(string)] = row
				}
				if len(want) == 0 {
					t.Fatal("the exact breakdown has no rows")
				}
				for _, r := range sampled["results"].([]any) {
					row := r.(map[string]any)
					v := row["source"].(string)
					if want[v] == nil {
						t.Errorf("sampled source %q is not in the exact answer", v)
						continue
					}
					for _, m := range metrics {
						within(c.name+" "+v, m, row[m].(float64), want[v][m].(float64), limits[v][m])
					}
				}
			}
		})
	}
}
