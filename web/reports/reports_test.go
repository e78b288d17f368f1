package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/reports"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// testStore is what these tests use of a store.
type testStore interface {
	reports.Store
	aggregator.Store
	authtest.Store
	storetest.RollupFixtureBackend
	server.Pinger
	PutGoal(ctx context.Context, g store.SiteGoal) error
	AddSite(ctx context.Context, domain string) (store.Site, error)
	ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error)
}

var (
	day1 = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
	day3 = day1.AddDate(0, 0, 2)
	// reportsNow is the reports' clock: a minute after the fixture's last
	// visit starts, so the realtime window holds visitors.
	reportsNow = day2.Add(22*time.Hour + 32*time.Minute)
)

const otherPartner = "other-partner"

// env is a seeded, aggregated store behind the full router.
type env struct {
	st      testStore
	site    store.Site
	other   store.Site
	fix     storetest.RollupFixture
	auth    *authtest.Fixture
	cfg     *config.Config
	handler http.Handler
}

func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) {
		ctx := context.Background()
		s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		fn(t, newEnv(t, s))
	})
	t.Run("clickhouse", func(t *testing.T) {
		s, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, newEnv(t, s))
	})
}

func newEnv(t *testing.T, st testStore) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{st: st, fix: storetest.LoadRollupFixture(t)}
	var err error
	if e.site, err = st.AddSite(ctx, "shop.example"); err != nil {
		t.Fatal(err)
	}
	if e.other, err = st.AddSite(ctx, "other.example"); err != nil {
		t.Fatal(err)
	}
	storetest.SeedRollupFixture(t, st, e.fix, e.site.ID)
	// other.example gets the same events a day later, so a release of it
	// differs from one of shop.example.
	shifted := storetest.RollupFixture{Events: make([]store.Event, len(e.fix.Events))}
	for i, ev := range e.fix.Events {
		ev.ID[0] ^= 0xff
		ev.Time, ev.ReceivedAt = ev.Time.AddDate(0, 0, 1), ev.ReceivedAt.AddDate(0, 0, 1)
		shifted.Events[i] = ev
	}
	storetest.SeedRollupFixture(t, st, shifted, e.other.ID)
	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return day3.Add(30 * time.Minute) }})
	if sum, err := agg.Once(ctx); err != nil || sum.Failed != 0 {
		t.Fatalf("aggregate: %+v, %v", sum, err)
	}
	partner := func(name, site string) config.Partner {
		return config.Partner{Name: name, Sites: []string{site}, Dimensions: []string{"total", "country"},
			Metrics: []string{"visitors", "pageviews"}, K: 5}
	}
	e.cfg = &config.Config{Partners: []config.Partner{partner(authtest.Partner, "shop.example"), partner(otherPartner, "other.example")}}
	e.auth = authtest.New(t, st, auth.Options{})
	h := reports.New(reports.Options{Store: st, Config: e.cfg, Now: func() time.Time { return reportsNow }})
	e.handler = server.New(server.Options{Auth: e.auth.Auth, Reports: h, Store: st})
	return e
}

// get calls the router with a bearer token.
func (e *env) get(t *testing.T, token, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

func (e *env) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	rec := e.get(t, e.auth.Token(auth.RoleAnalyst), path)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, rec.Body)
	}
}

func (e *env) getCSV(t *testing.T, path string) [][]string {
	t.Helper()
	rec := e.get(t, e.auth.Token(auth.RoleAnalyst), path, "Accept", "text/csv")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s %s", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	recs, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// daily returns the fixture's expected daily (UTC) row of a day, dimension
// and value.
func (e *env) daily(t *testing.T, day time.Time, dim, value string) store.RollupRow {
	t.Helper()
	for _, c := range e.fix.Cases {
		if c.Name != "daily" {
			continue
		}
		for _, r := range c.Rollups {
			if r.WindowStart.Equal(day) && r.Dimension == dim && r.Value == value {
				return r
			}
		}
	}
	return store.RollupRow{}
}

// hourlyPageviews is the fixture's expected pageviews per hour of a day.
func (e *env) hourlyPageviews(day time.Time) []uint64 {
	out := make([]uint64, 24)
	for _, c := range e.fix.Cases {
		if c.Name != "hourly" {
			continue
		}
		for _, r := range c.Rollups {
			if r.Dimension == "" && !r.WindowStart.Before(day) && r.WindowStart.Before(day.AddDate(0, 0, 1)) {
				out[r.WindowStart.Hour()] = r.Pageviews
			}
		}
	}
	return out
}

// visitors counts the fixture's distinct non-bot visitor keys in [from, to):
// the known answer, from the events themselves.
func (e *env) visitors(from, to time.Time) uint64 {
	return e.visitorsWhere(from, to, func(store.Event) bool { return true })
}

func (e *env) visitorsWhere(from, to time.Time, keep func(store.Event) bool) uint64 {
	keys := map[uint64]bool{}
	for _, ev := range e.fix.Events {
		// E-mail opens and clicks belong to no visitor.
		if !ev.Bot && !store.EmailDimension(string(ev.Type)) && !ev.Time.Before(from) && ev.Time.Before(to) && keep(ev) {
			keys[ev.VisitorKey] = true
		}
	}
	return uint64(len(keys))
}

type metricValue struct {
	Value    float64  `json:"value"`
	Previous *float64 `json:"previous"`
	Change   *float64 `json:"change"`
}

func TestAggregate(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d1, d2 := e.daily(t, day1, "", ""), e.daily(t, day2, "", "")
		if d1.Pageviews == 0 || d2.Pageviews == 0 {
			t.Fatal("fixture has no daily totals")
		}
		var got struct {
			Results map[string]metricValue `json:"results"`
		}
		// Two days: visitors from the raw events, never summed.
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics=visitors,visits,pageviews,events", &got)
		want := map[string]float64{
			"visitors": float64(e.visitors(day1, day3)), "visits": float64(d1.Visits + d2.Visits),
			"pageviews": float64(d1.Pageviews + d2.Pageviews), "events": float64(d1.Events + d2.Events),
		}
		if float64(d1.Visitors+d2.Visitors) == want["visitors"] {
			t.Log("fixture: summed and distinct visitors agree; the test does not tell them apart")
		}
		for m, w := range want {
			if got.Results[m].Value != w {
				t.Errorf("%s: got %v, want %v", m, got.Results[m].Value, w)
			}
		}

		// One day, with the previous day to compare.
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-15&metrics=visitors,bounce_rate,visit_duration&compare=previous_period", &got)
		v := got.Results["visitors"]
		if v.Value != float64(d2.Visitors) || v.Previous == nil || *v.Previous != float64(d1.Visitors) {
			t.Errorf("visitors with compare: got %+v, want %d after %d", v, d2.Visitors, d1.Visitors)
		}
		wantBounce := float64(int(float64(d2.Bounces)*100/float64(d2.Visits)*10+0.5)) / 10
		if b := got.Results["bounce_rate"].Value; b != wantBounce {
			t.Errorf("bounce_rate: got %v, want %v", b, wantBounce)
		}

		// A filter answered by one window's row.
		de := e.daily(t, day1, "country", "DE")
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-14&metrics=visitors,pageviews&filters=country==DE", &got)
		if got.Results["visitors"].Value != float64(de.Visitors) || got.Results["pageviews"].Value != float64(de.Pageviews) {
			t.Errorf("country==DE: got %+v, want %+v", got.Results, de)
		}
		// An event dimension: visitors and visits of one page.
		home := e.daily(t, day1, "page", "/")
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-14&metrics=visitors,visits&filters=page==/", &got)
		if got.Results["visitors"].Value != float64(home.Visitors) || got.Results["visits"].Value != float64(home.Visits) || home.Visitors == 0 {
			t.Errorf("page==/: got %+v, want %+v", got.Results, home)
		}
		// Over two days the filtered pageviews add up; visitors come from
		// the raw events (a fixture visitor keeps its country).
		e.getJSON(t, "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics=pageviews,visitors&filters=country==DE", &got)
		if w := de.Pageviews + e.daily(t, day2, "country", "DE").Pageviews; got.Results["pageviews"].Value != float64(w) {
			t.Errorf("country==DE pageviews over two days: got %v, want %d", got.Results["pageviews"].Value, w)
		}
		if w := e.visitorsWhere(day1, day3, func(ev store.Event) bool { return ev.Country == "DE" }); got.Results["visitors"].Value != float64(w) {
			t.Errorf("country==DE visitors over two days: got %v, want %d", got.Results["visitors"].Value, w)
		}

		recs := e.getCSV(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-14&metrics=visitors,pageviews")
		wantCSV := [][]string{{"metric", "value"}, {"visitors", u(d1.Visitors)}, {"pageviews", u(d1.Pageviews)}}
		if diff := cmp.Diff(wantCSV, recs); diff != "" {
			t.Errorf("CSV (-want +got):\n%s", diff)
		}
	})
}

func u(x uint64) string { return strconv.FormatUint(x, 10) }

func TestTimeseries(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var got struct {
			Results []map[string]any `json:"results"`
		}
		e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&period=custom&from=2026-03-14&to=2026-03-16&metrics=visitors,pageviews&interval=day", &got)
		d1, d2 := e.daily(t, day1, "", ""), e.daily(t, day2, "", "")
		want := []map[string]any{
			{"date": "2026-03-14", "visitors": float64(d1.Visitors), "pageviews": float64(d1.Pageviews)},
			{"date": "2026-03-15", "visitors": float64(d2.Visitors), "pageviews": float64(d2.Pageviews)},
			{"date": "2026-03-16", "visitors": 0.0, "pageviews": 0.0}, // filled: no events
		}
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("daily (-want +got):\n%s", diff)
		}

		got.Results = nil
		e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&period=day&date=2026-03-14&metrics=pageviews&interval=hour", &got)
		hours := e.hourlyPageviews(day1)
		if len(got.Results) != 24 {
			t.Fatalf("hourly: got %d points, want 24", len(got.Results))
		}
		for i, p := range got.Results {
			if p["pageviews"] != float64(hours[i]) {
				t.Errorf("hour %d: got %v pageviews, want %d", i, p["pageviews"], hours[i])
			}
		}

		// Weeks start on Monday; the first is clipped to the period, and
		// its visitors are counted from the raw events.
		got.Results = nil
		e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&period=custom&from=2026-03-14&to=2026-03-16&metrics=visitors&interval=week", &got)
		wantWeeks := []map[string]any{
			{"date": "2026-03-09", "visitors": float64(e.visitors(day1, day3))},
			{"date": "2026-03-16", "visitors": 0.0},
		}
		if diff := cmp.Diff(wantWeeks, got.Results); diff != "" {
			t.Errorf("weekly (-want +got):\n%s", diff)
		}

		got.Results = nil
		e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&period=custom&from=2026-03-14&to=2026-03-16&metrics=visitors&interval=week&filters=country==FR", &got)
		fr := e.visitorsWhere(day1, day3, func(ev store.Event) bool { return ev.Country == "FR" })
		if len(got.Results) != 2 || got.Results[0]["visitors"] != float64(fr) {
			t.Errorf("weekly, country==FR: got %v, want %d visitors in the first week", got.Results, fr)
		}

		recs := e.getCSV(t, "/api/v1/stats/timeseries?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics=pageviews&format=csv")
		wantCSV := [][]string{{"date", "pageviews"}, {"2026-03-14", u(d1.Pageviews)}, {"2026-03-15", u(d2.Pageviews)}}
		if diff := cmp.Diff(wantCSV, recs); diff != "" {
			t.Errorf("CSV (-want +got):\n%s", diff)
		}
	})
}

// TestVisitorsAfterRetention: once retention has deleted the raw events
// and visit rows, the visitors of several days come from the windows'
// sketches, marked "estimate", within the documented bound of the exact
// count read before; one day's visitors are still its rollup row's, exact.
func TestVisitorsAfterRetention(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		type entry struct {
			Value            float64 `json:"value"`
			Previous         float64 `json:"previous"`
			Estimate         bool    `json:"estimate"`
			PreviousEstimate bool    `json:"previous_estimate"`
		}
		var agg struct {
			Results map[string]entry `json:"results"`
		}
		var series struct {
			Results []map[string]any `json:"results"`
		}
		two := "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics=visitors,pageviews"
		weeks := "/api/v1/stats/timeseries?site=shop.example&period=custom&from=2026-03-14&to=2026-03-16&metrics=visitors&interval=week"
		oneDay := "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-15&metrics=visitors&compare=previous_period"
		exact := float64(e.visitors(day1, day3))
		e.getJSON(t, two, &agg)
		if v := agg.Results["visitors"]; v.Value != exact || v.Estimate {
			t.Fatalf("before retention: visitors %+v, want exactly %v", v, exact)
		}
		pageviews := agg.Results["pageviews"].Value
		d1, d2 := e.daily(t, day1, "", ""), e.daily(t, day2, "", "")

		if _, err := e.st.ApplyRetention(context.Background(), store.RetentionPlan{EventsBefore: day3.AddDate(0, 2, 0)}, false); err != nil {
			t.Fatal(err)
		}
		agg.Results = nil
		e.getJSON(t, two, &agg)
		v := agg.Results["visitors"]
		if !v.Estimate || math.Abs(v.Value-exact)/exact > store.SketchErrorBound {
			t.Errorf("after retention: visitors %+v, want an estimate within %.0f%% of %v", v, store.SketchErrorBound*100, exact)
		}
		if p := agg.Results["pageviews"]; p.Value != pageviews || p.Estimate {
			t.Errorf("after retention: pageviews %+v, want exactly %v (rollups)", p, pageviews)
		}
		e.getJSON(t, weeks, &series)
		if len(series.Results) != 2 || series.Results[0]["estimate"] != true || math.Abs(series.Results[0]["visitors"].(float64)-exact)/exact > store.SketchErrorBound {
			t.Errorf("weekly after retention: %v, want an estimate of about %v visitors in the first week", series.Results, exact)
		}
		agg.Results = nil
		e.getJSON(t, oneDay, &agg)
		if v := agg.Results["visitors"]; v.Value != float64(d2.Visitors) || v.Previous != float64(d1.Visitors) || v.Estimate || v.PreviousEstimate {
			t.Errorf("one day after retention: %+v, want exactly %d after %d (rollup rows)", v, d2.Visitors, d1.Visitors)
		}
	})
}

func TestBreakdown(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		type answer struct {
			Total   int              `json:"total"`
			Results []map[string]any `json:"results"`
		}
		var got answer
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=country&metrics=visitors,pageviews", &got)
		var want []map[string]any
		for _, c := range []string{"DE", "FR", "US"} {
			r := e.daily(t, day1, "country", c)
			if r.Visitors > 0 {
				want = append(want, map[string]any{"country": c, "visitors": float64(r.Visitors), "pageviews": float64(r.Pageviews)})
			}
		}
		sortRows(want, "visitors", "country")
		if diff := cmp.Diff(want, got.Results); diff != "" {
			t.Errorf("country (-want +got):\n%s", diff)
		}

		// Pages over two days: pageviews add up; the first page of two.
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=page&metrics=pageviews&limit=2&page=1", &got)
		byPage := map[string]uint64{}
		for _, c := range e.fix.Cases {
			if c.Name == "daily" {
				for _, r := range c.Rollups {
					if r.Dimension == "page" {
						byPage[r.Value] += r.Pageviews
					}
				}
			}
		}
		var pages []map[string]any
		for p, n := range byPage {
			pages = append(pages, map[string]any{"page": p, "pageviews": float64(n)})
		}
		sortRows(pages, "pageviews", "page")
		if got.Total != len(pages) {
			t.Errorf("total: got %d, want %d", got.Total, len(pages))
		}
		if diff := cmp.Diff(pages[:2], got.Results); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=page&metrics=pageviews&limit=2&page=2", &got)
		if diff := cmp.Diff(pages[2:min(4, len(pages))], got.Results); diff != "" {
			t.Errorf("pages, page 2 (-want +got):\n%s", diff)
		}

		// Visitors per page over two days: from the raw events.
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=page&metrics=visitors", &got)
		if len(got.Results) != len(pages) {
			t.Errorf("visitors by page: got %d rows, want %d", len(got.Results), len(pages))
		}
		for _, r := range got.Results {
			p := r["page"].(string)
			if w := e.visitorsWhere(day1, day3, func(ev store.Event) bool { return ev.Path == p }); r["visitors"] != float64(w) {
				t.Errorf("visitors of %s over two days: got %v, want %d", p, r["visitors"], w)
			}
		}

		// A filter on another dimension: visits that include /pricing, by
		// country, from the raw events (a fixture visitor keeps its country).
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=country&metrics=visitors,pageviews&filters=page==/pricing", &got)
		if len(got.Results) == 0 {
			t.Error("country by page==/pricing: no rows")
		}
		for _, r := range got.Results {
			c := r["country"].(string)
			w := e.visitorsWhere(day1, day3, func(ev store.Event) bool { return ev.Path == "/pricing" && ev.Country == c })
			if r["visitors"] != float64(w) || r["pageviews"].(float64) < float64(w) {
				t.Errorf("country %s, page==/pricing: got %v, want %d visitors", c, r, w)
			}
		}

		// A filter on the property itself.
		got = answer{}
		e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=country&metrics=pageviews&filters=country!=DE", &got)
		for _, r := range got.Results {
			if r["country"] == "DE" {
				t.Errorf("country!=DE returned DE")
			}
		}

		recs := e.getCSV(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=country&metrics=visitors,pageviews")
		if len(recs) != len(want)+1 || strings.Join(recs[0], ",") != "country,visitors,pageviews" {
			t.Errorf("CSV: got %v", recs)
		}
	})
}

// sortRows orders rows as the breakdown does: by metric desc, then key.
func sortRows(rows []map[string]any, metric, key string) {
	for i := range rows {
		for j := i + 1; j < len(rows); j++ {
			a, b := rows[i][metric].(float64), rows[j][metric].(float64)
			if b > a || b == a && rows[j][key].(string) < rows[i][key].(string) {
				rows[i], rows[j] = rows[j], rows[i]
			}
		}
	}
}

func TestOtherEndpoints(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var sites struct {
			Results []map[string]any `json:"results"`
		}
		e.getJSON(t, "/api/v1/sites", &sites)
		if len(sites.Results) != 2 {
			t.Errorf("sites: got %v, want both", sites.Results)
		}
		scoped := e.auth.NewToken(t, auth.RoleAnalyst, e.other.ID)
		rec := e.get(t, scoped, "/api/v1/sites")
		if !strings.Contains(rec.Body.String(), "other.example") || strings.Contains(rec.Body.String(), "shop.example") {
			t.Errorf("scoped sites: got %s", rec.Body)
		}

		var rt struct {
			Visitors uint64 `json:"visitors"`
		}
		e.getJSON(t, "/api/v1/stats/realtime?site=shop.example", &rt)
		now := reportsNow.Truncate(time.Second).Add(time.Second)
		if w := e.visitors(now.Add(-reports.RealtimeWindow), now); rt.Visitors != w || w == 0 {
			t.Errorf("realtime: got %d, want %d (> 0)", rt.Visitors, w)
		}

		var cons struct {
			Results []map[string]any `json:"results"`
		}
		e.getJSON(t, "/api/v1/stats/consent?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15", &cons)
		var want []map[string]any
		for _, c := range e.fix.Cases {
			if c.Name == "daily" {
				for _, r := range c.Consent {
					want = append(want, map[string]any{"date": r.WindowStart.Format(time.DateOnly), "category": r.Category,
						"decisions": float64(r.Decisions), "granted": float64(r.Granted), "denied": float64(r.Denied),
						"withdrawn": float64(r.Withdrawn), "gpc": float64(r.GPC), "partial": false})
				}
			}
		}
		if len(want) == 0 {
			t.Fatal("fixture has no daily consent rows")
		}
		if diff := cmp.Diff(want, cons.Results); diff != "" {
			t.Errorf("consent (-want +got):\n%s", diff)
		}
		if recs := e.getCSV(t, "/api/v1/stats/consent?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15"); len(recs) != len(want)+1 {
			t.Errorf("consent CSV: %d records, want %d", len(recs), len(want)+1)
		}

		var st struct {
			LastRun map[string]any `json:"last_run"`
			Failed  []any          `json:"failed_windows"`
			Lag     *int64         `json:"lag_seconds"`
		}
		e.getJSON(t, "/api/v1/aggregator/status?site=shop.example", &st)
		if st.LastRun == nil || st.LastRun["status"] != "ok" || len(st.Failed) != 0 || st.Lag == nil {
			t.Errorf("status: got %+v", st)
		}
	})
}

func TestBadRequests(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for _, path := range []string{
			"/api/v1/stats/aggregate",
			"/api/v1/stats/aggregate?site=shop.example&period=week",
			"/api/v1/stats/aggregate?site=shop.example&metrics=visitors,bogus",
			"/api/v1/stats/aggregate?site=shop.example&filters=planet==mars",
			"/api/v1/stats/aggregate?site=shop.example&filters=country==DE%zz",           // a broken escape
			"/api/v1/stats/aggregate?site=shop.example&filters=country==DE;planet==mars", // a bare ';' separates filters too
			"/api/v1/stats/aggregate?site=shop.example&filters=" + strings.Repeat("country!=X%3B", 10) + "device==mobile",
			"/api/v1/stats/timeseries?site=shop.example&filters=" + strings.Repeat("page~a%3B", 11) + "page~b",
			"/api/v1/stats/aggregate?site=shop.example&filters=country=DE",
			"/api/v1/stats/aggregate?site=shop.example&filters=country==DE%3Bcountry>DE",
			"/api/v1/stats/breakdown?site=shop.example&property=page&filters=country==DE%3Bplanet==mars",
			"/api/v1/stats/breakdown?site=shop.example&property=page&filters=country==DE%3B",
			"/api/v1/stats/aggregate?site=shop.example&filters=email_open==spring/",
			"/api/v1/stats/breakdown?site=shop.example&property=email_click&filters=country==DE",
			"/api/v1/stats/breakdown?site=shop.example&property=email_click&filters=email_click~a%3Bemail_click~b",
			"/api/v1/stats/breakdown?site=shop.example&property=page&filters=email_click~a",
			"/api/v1/stats/aggregate?site=shop.example&compare=last_year",
			"/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-15",
			"/api/v1/stats/aggregate?site=shop.example&bogus=1",
			"/api/v1/stats/aggregate?site=shop.example&format=xml",
			"/api/v1/stats/timeseries?site=shop.example&interval=minute",
			"/api/v1/stats/breakdown?site=shop.example&property=planet",
			"/api/v1/stats/breakdown?site=shop.example&property=page&limit=0",
			"/api/v1/stats/breakdown?site=shop.example&property=page&metrics=bounce_rate",
		} {
			rec := e.get(t, e.auth.Token(auth.RoleAnalyst), path)
			var body map[string]string
			if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["error"] == "" {
				t.Errorf("GET %s: got %d %s, want 400 with a JSON error", path, rec.Code, rec.Body)
			}
		}
		if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), "/api/v1/stats/aggregate?site=nowhere.example"); rec.Code != http.StatusNotFound {
			t.Errorf("unknown site: got %d", rec.Code)
		}
		scoped := e.auth.NewToken(t, auth.RoleAnalyst, e.other.ID)
		if rec := e.get(t, scoped, "/api/v1/stats/aggregate?site=nowhere.example"); rec.Code != http.StatusForbidden {
			t.Errorf("unknown site, scoped token: got %d, want 403", rec.Code)
		}
	})
}

// TestAccessMatrix runs every route as every caller: 401 without valid
// credentials, 403 for a wrong role or site, never data.
func TestAccessMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		analyst := []auth.Role{auth.RoleAnalyst}
		var routes []authtest.Route
		for _, p := range []string{
			"/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-14",
			"/api/v1/stats/timeseries?site=shop.example&period=day&date=2026-03-14",
			"/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=country",
			"/api/v1/stats/realtime?site=shop.example",
			"/api/v1/stats/consent?site=shop.example&period=day&date=2026-03-14",
			"/api/v1/aggregator/status?site=shop.example",
			"/api/v1/annotations?site=shop.example",
			"/api/v1/segments?site=shop.example",
		} {
			routes = append(routes, authtest.Route{Method: http.MethodGet, Path: p, Roles: analyst, Site: e.site.ID})
		}
		routes = append(routes,
			authtest.Route{Method: http.MethodGet, Path: "/api/v1/sites", Roles: analyst},
			authtest.Route{Method: http.MethodPost, Path: "/api/v1/annotations?site=shop.example", Roles: analyst, Site: e.site.ID,
				Body: `{"date":"2026-03-14","text":"Launch"}`, ContentType: "application/json"},
			authtest.Route{Method: http.MethodPost, Path: "/api/v1/segments?site=shop.example", Roles: analyst, Site: e.site.ID,
				Body: `{"name":"DE","filters":"country==DE"}`, ContentType: "application/json"},
			authtest.Route{Method: http.MethodGet, Path: "/api/partner/v1/aggregates?from=2026-03-14&to=2026-03-15", Roles: []auth.Role{auth.RolePartner}},
		)
		e.auth.Check(t, e.handler, routes)
	})
}

// TestPartnerAPI: a partner gets exactly NewRelease's release for its own
// config entry, never another partner's.
func TestPartnerAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tok, otherSecret, err := auth.NewToken(auth.TokenSpec{Role: auth.RolePartner, Partner: otherPartner}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.AddToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			token, partner, site string
		}{
			{e.auth.Token(auth.RolePartner), authtest.Partner, "shop.example"},
			{otherSecret, otherPartner, "other.example"},
		} {
			p, _ := e.cfg.Partner(c.partner)
			rel, err := aggregator.NewRelease(ctx, e.st, aggregator.ReleaseRequest{
				Partner: p, From: day1, To: day3, Zone: e.cfg.SiteZone, Now: func() time.Time { return reportsNow },
			})
			if err != nil {
				t.Fatal(err)
			}
			var want []map[string]any
			for _, tb := range rel.Tables {
				for _, r := range tb.Rows {
					want = append(want, map[string]any{"dimension": tb.Dimension, "site": r.Site, "day": r.Day, "value": r.Value,
						"visitors": float64(r.Metrics[0]), "pageviews": float64(r.Metrics[1])})
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s: the release is empty; the test proves nothing", c.partner)
			}
			rec := e.get(t, c.token, "/api/partner/v1/aggregates?from=2026-03-14&to=2026-03-16")
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", c.partner, rec.Code, rec.Body)
			}
			var got struct {
				Partner string `json:"partner"`
				Tables  []struct {
					Dimension string           `json:"dimension"`
					Rows      []map[string]any `json:"rows"`
				} `json:"tables"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var rows []map[string]any
			for _, tb := range got.Tables {
				for _, r := range tb.Rows {
					r["dimension"] = tb.Dimension
					rows = append(rows, r)
					if r["site"] != c.site {
						t.Errorf("%s got a row of %v", c.partner, r["site"])
					}
				}
			}
			if got.Partner != c.partner {
				t.Errorf("partner: got %q, want %q", got.Partner, c.partner)
			}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("%s release (-want +got):\n%s", c.partner, diff)
			}
			csvRec := e.get(t, c.token, "/api/partner/v1/aggregates?from=2026-03-14&to=2026-03-16&format=csv")
			recs, err := csv.NewReader(csvRec.Body).ReadAll()
			if err != nil || len(recs) != len(want)+1 || strings.Join(recs[0], ",") != "dimension,site,day,value,visitors,pageviews" {
				t.Errorf("%s CSV: %v %v", c.partner, recs, err)
			}
			// A partner token never reads the analysts' API.
			if rec := e.get(t, c.token, "/api/v1/stats/aggregate?site="+c.site); rec.Code != http.StatusForbidden {
				t.Errorf("%s on the stats API: got %d, want 403", c.partner, rec.Code)
			}
		}
	})
}

// filtered is the reference answer of filters over [from, to), one point
// per bucket start (none: the whole range), from the fixture's events as
// the visit rows answer it: visits cut at the edges of the aggregator's
// windows (UTC hours for hourly buckets, else UTC days, shop.example's
// zone), visitors distinct per point.
func (e *env) filtered(dim string, from, to time.Time, buckets []time.Time, filters ...store.Filter) []store.RollupRow {
	g := store.Daily
	if len(buckets) > 1 && buckets[1].Sub(buckets[0]) == time.Hour {
		g = store.Hourly
	}
	return storetest.ExpectVisitBreakdown(e.fix.Events, store.VisitQuery{
		SiteID: e.site.ID, Granularity: g, Dimension: dim, Filters: filters, From: from, To: to, Buckets: buckets,
	}, time.UTC)
}

// metricsOf are a row's metrics as the API reports them.
func metricsOf(r store.RollupRow) map[string]float64 {
	per := func(x uint64) float64 {
		if r.Visits == 0 {
			return 0
		}
		return math.Round(float64(x)/float64(r.Visits)*10) / 10
	}
	eng := 0.0
	if r.Visits != 0 {
		eng = math.Round(float64(r.EngagedMS)/float64(r.Visits)/100) / 10
	}
	return map[string]float64{
		"visitors": float64(r.Visitors), "visits": float64(r.Visits), "pageviews": float64(r.Pageviews),
		"events": float64(r.Events), "bounce_rate": per(r.Bounces * 100), "visit_duration": per(r.DurationSec),
		"engaged_time": eng,
	}
}

// TestFilters checks several filters combined with AND on every endpoint
// against answers computed from the fixture's events (storetest's
// reference model), never against the stores.
func TestFilters(t *testing.T) {
	all := "visitors,visits,pageviews,events,bounce_rate,visit_duration,engaged_time"
	de := store.Filter{Dim: "country", Op: "==", Value: "DE"}
	pricing := store.Filter{Dim: "page", Op: "==", Value: "/pricing"}
	notUS := store.Filter{Dim: "country", Op: "!=", Value: "US"}
	sign := store.Filter{Dim: "event_name", Op: "~", Value: "SIGN"}
	notTablet := store.Filter{Dim: "device", Op: "!=", Value: "tablet"}
	blog := store.Filter{Dim: "page", Op: "~", Value: "blog"}
	eachBackend(t, func(t *testing.T, e *env) {
		total := func(from, to time.Time, fs ...store.Filter) map[string]float64 {
			rows := e.filtered("", from, to, nil, fs...)
			if len(rows) == 0 {
				return metricsOf(store.RollupRow{})
			}
			return metricsOf(rows[0])
		}
		type result struct {
			Results map[string]metricValue `json:"results"`
		}
		check := func(t *testing.T, path string, want map[string]float64, prev map[string]float64) {
			t.Helper()
			var got result
			e.getJSON(t, path, &got)
			if want["visits"] == 0 && prev == nil {
				t.Logf("%s: the reference expects no visits", path)
			}
			for m, w := range want {
				g := got.Results[m]
				if g.Value != w {
					t.Errorf("%s: %s = %v, want %v", path, m, g.Value, w)
				}
				if prev != nil && (g.Previous == nil || *g.Previous != prev[m]) {
					t.Errorf("%s: previous %s = %v, want %v", path, m, g.Previous, prev[m])
				}
			}
		}

		t.Run("AggregateTwoFilters", func(t *testing.T) {
			want := total(day1, day3, de, pricing)
			if want["visits"] == 0 {
				t.Fatal("the reference matches nothing; pick other filters")
			}
			check(t, "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics="+all+"&filters=country==DE%3Bpage==/pricing", want, nil)
			// As Plausible's API users type it: a bare ';'.
			check(t, "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics="+all+"&filters=country==DE;page==/pricing", want, nil)
		})
		t.Run("AggregateThreeFiltersWithCompare", func(t *testing.T) {
			want, prev := total(day2, day3, notUS, sign, notTablet), total(day1, day2, notUS, sign, notTablet)
			if want["visits"] == 0 || prev["visits"] == 0 {
				t.Fatal("the reference matches nothing; pick other filters")
			}
			check(t, "/api/v1/stats/aggregate?site=shop.example&period=day&date=2026-03-15&compare=previous_period&metrics="+all+"&filters=country!=US%3Bevent_name~SIGN%3Bdevice!=tablet", want, prev)
		})
		t.Run("VisitorsUnderNotEqualAndContains", func(t *testing.T) {
			for _, c := range []struct {
				query string
				f     store.Filter
			}{
				{"country!=US", notUS},
				// Visitors with visits of several entry pages in a day: rows
				// per value summed would count them more than once.
				{"entry_page~/", store.Filter{Dim: "entry_page", Op: "~", Value: "/"}},
				{"page~blog", blog},
				{"event_name!=cta", store.Filter{Dim: "event_name", Op: "!=", Value: "cta"}},
			} {
				for _, period := range []string{"period=day&date=2026-03-14", "period=custom&from=2026-03-14&to=2026-03-15"} {
					to := day2
					if strings.HasPrefix(period, "period=custom") {
						to = day3
					}
					// The rollups (visits of a session dimension) and the
					// visit rows both cut visits at midnight, as the
					// reference does.
					want := total(day1, to, c.f)
					want = map[string]float64{"visitors": want["visitors"], "visits": want["visits"], "bounce_rate": want["bounce_rate"]}
					check(t, "/api/v1/stats/aggregate?site=shop.example&"+period+"&metrics=visitors,visits,bounce_rate&filters="+c.query, want, nil)
				}
			}
		})
		t.Run("MatchingNothingIsZero", func(t *testing.T) {
			zero := map[string]float64{}
			for _, m := range strings.Split(all, ",") {
				zero[m] = 0
			}
			check(t, "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics="+all+"&filters=country==DE%3Bcountry==FR", zero, nil)
			var ts struct {
				Results []map[string]any `json:"results"`
			}
			e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&period=day&date=2026-03-14&metrics=visitors,pageviews&filters=page==/nowhere%3Bdevice==mobile", &ts)
			if len(ts.Results) != 24 {
				t.Fatalf("got %d points, want 24", len(ts.Results))
			}
			for _, p := range ts.Results {
				if p["visitors"] != 0.0 || p["pageviews"] != 0.0 {
					t.Errorf("point %v: want zeros", p)
				}
			}
		})
		t.Run("Timeseries", func(t *testing.T) {
			hours := make([]time.Time, 24)
			for i := range hours {
				hours[i] = day1.Add(time.Duration(i) * time.Hour)
			}
			for _, c := range []struct {
				name, query string
				from, to    time.Time
				buckets     []time.Time
				labels      func(time.Time) string
			}{
				{"hour", "period=day&date=2026-03-14&interval=hour", day1, day2, hours, func(t time.Time) string { return t.Format(time.RFC3339) }},
				{"day", "period=custom&from=2026-03-14&to=2026-03-15&interval=day", day1, day3, []time.Time{day1, day2}, func(t time.Time) string { return t.Format(time.DateOnly) }},
				{"week", "period=custom&from=2026-03-14&to=2026-03-15&interval=week", day1, day3, []time.Time{day1}, func(time.Time) string { return "2026-03-09" }},
			} {
				t.Run(c.name, func(t *testing.T) {
					rows := e.filtered("", c.from, c.to, c.buckets, notTablet, blog)
					if len(rows) == 0 {
						t.Fatal("the reference matches nothing; pick other filters")
					}
					want := map[string]map[string]float64{}
					for _, b := range c.buckets {
						want[c.labels(b)] = metricsOf(store.RollupRow{})
					}
					for _, r := range rows {
						want[c.labels(r.WindowStart)] = metricsOf(r)
					}
					var got struct {
						Results []map[string]any `json:"results"`
					}
					e.getJSON(t, "/api/v1/stats/timeseries?site=shop.example&"+c.query+"&metrics="+all+"&filters=device!=tablet%3Bpage~blog", &got)
					if len(got.Results) != len(c.buckets) {
						t.Fatalf("got %d points, want %d", len(got.Results), len(c.buckets))
					}
					for _, p := range got.Results {
						w := want[p["date"].(string)]
						if w == nil {
							t.Fatalf("unexpected point %v", p)
						}
						for m, v := range w {
							if p[m] != v {
								t.Errorf("%v: %s = %v, want %v", p["date"], m, p[m], v)
							}
						}
					}
				})
			}
		})
		t.Run("BreakdownOfFilteredProperty", func(t *testing.T) {
			path := "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=page&metrics=visitors,visits,pageviews,events&filters=page~blog%3Bcountry==DE"
			var want []map[string]any
			for _, r := range e.filtered("page", day1, day3, nil, blog, de) {
				if !strings.Contains(r.Value, "blog") {
					continue
				}
				m := metricsOf(r)
				want = append(want, map[string]any{"page": r.Value, "visitors": m["visitors"], "visits": m["visits"], "pageviews": m["pageviews"], "events": m["events"]})
			}
			if len(want) < 2 {
				t.Fatalf("the reference has %d values; pick other filters", len(want))
			}
			sortRows(want, "visitors", "page")
			var got struct {
				Results []map[string]any `json:"results"`
			}
			e.getJSON(t, path, &got)
			if diff := cmp.Diff(want, got.Results); diff != "" {
				t.Errorf("breakdown (-want +got):\n%s", diff)
			}
			// CSV with several filters: the same rows.
			recs := e.getCSV(t, path)
			wantCSV := [][]string{{"page", "visitors", "visits", "pageviews", "events"}}
			for _, r := range want {
				rec := []string{r["page"].(string)}
				for _, m := range []string{"visitors", "visits", "pageviews", "events"} {
					rec = append(rec, strconv.FormatFloat(r[m].(float64), 'f', -1, 64))
				}
				wantCSV = append(wantCSV, rec)
			}
			if diff := cmp.Diff(wantCSV, recs); diff != "" {
				t.Errorf("CSV (-want +got):\n%s", diff)
			}
		})
		t.Run("EmailBreakdownFilteredOnItself", func(t *testing.T) {
			// Answered by the rollups: every value of the day's rows
			// contains "/", and the events add up per value.
			want := map[string]float64{}
			for _, c := range e.fix.Cases {
				for _, r := range c.Rollups {
					if c.Name == "daily" && r.Dimension == store.DimEmailOpen && r.WindowStart.Equal(day1) {
						want[r.Value] += float64(r.Events)
					}
				}
			}
			if len(want) == 0 {
				t.Fatal("the fixture has no e-mail opens on the first day")
			}
			var got struct {
				Results []map[string]any `json:"results"`
			}
			e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=email_open&metrics=events&filters=email_open~/", &got)
			gotMap := map[string]float64{}
			for _, r := range got.Results {
				gotMap[r["email_open"].(string)] = r["events"].(float64)
			}
			if diff := cmp.Diff(want, gotMap); diff != "" {
				t.Errorf("e-mail opens (-want +got):\n%s", diff)
			}
		})
		t.Run("BreakdownCrossNotEqualEventDimension", func(t *testing.T) {
			var want []map[string]any
			f := store.Filter{Dim: "page", Op: "!=", Value: "/"}
			for _, r := range e.filtered("country", day1, day3, nil, f, notTablet) {
				want = append(want, map[string]any{"country": r.Value, "visitors": float64(r.Visitors), "bounce_rate": metricsOf(r)["bounce_rate"]})
			}
			sortRows(want, "visitors", "country")
			var got struct {
				Results []map[string]any `json:"results"`
			}
			e.getJSON(t, "/api/v1/stats/breakdown?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&property=country&metrics=visitors,bounce_rate&filters=page!=/%3Bdevice!=tablet", &got)
			if diff := cmp.Diff(want, got.Results); diff != "" {
				t.Errorf("breakdown (-want +got):\n%s", diff)
			}
		})
	})
}

// Finding 4 of #16: a partner's release of a window is computed once and
// served as stored, by every replica; each new window costs the partner's
// epsilon, and past the budget of the period a new window is a 429 with a
// JSON error while released windows are still served.
func TestPartnerPrivacyBudget(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.cfg.Partners[0].Epsilon, e.cfg.Partners[0].EpsilonBudget = 1, 3
		e.cfg.Partners[0].Bounds = config.Bounds{MaxCells: 4, MaxVisits: 3, MaxPageviews: 10, MaxEvents: 10}
		// A second replica: its own handler over the same store.
		replica := server.New(server.Options{Auth: e.auth.Auth, Store: e.st,
			Reports: reports.New(reports.Options{Store: e.st, Config: e.cfg, Now: func() time.Time { return reportsNow }})})
		tok := e.auth.Token(auth.RolePartner)
		get := func(h http.Handler, path string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		const a = "/api/partner/v1/aggregates?from=2026-03-14&to=2026-03-16"
		first := get(e.handler, a)
		if first.Code != http.StatusOK {
			t.Fatalf("first release: %d %s", first.Code, first.Body)
		}
		for i := range 60 {
			h := e.handler
			if i%2 == 1 {
				h = replica
			}
			if rec := get(h, a); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), first.Body.Bytes()) {
				t.Fatalf("call %d: %d, the body differs from the first release's", i+2, rec.Code)
			}
		}
		if rec := get(replica, "/api/partner/v1/aggregates?from=2026-03-14&to=2026-03-15"); rec.Code != http.StatusOK {
			t.Fatalf("second window: %d %s", rec.Code, rec.Body)
		}

		// One more window fits the budget (3); many requests for new windows
		// at once: exactly one is released. (Across replicas the cap holds
		// for requests in turn, as above; see Releaser for a race.)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			codes = map[int]int{}
		)
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := get(e.handler, fmt.Sprintf("/api/partner/v1/aggregates?from=2026-03-%02d&to=2026-03-16", 1+i))
				mu.Lock()
				codes[rec.Code]++
				mu.Unlock()
				if rec.Code == http.StatusTooManyRequests && (!strings.Contains(rec.Body.String(), `"error":"the privacy budget of this period is spent`) || rec.Header().Get("Retry-After") == "") {
					t.Errorf("refusal: %s, Retry-After %q", rec.Body, rec.Header().Get("Retry-After"))
				}
			}()
		}
		wg.Wait()
		if codes[http.StatusOK] != 1 || codes[http.StatusTooManyRequests] != 11 {
			t.Errorf("12 new windows at once with budget for one: %v, want one 200 and eleven 429", codes)
		}
		if rec := get(e.handler, a); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), first.Body.Bytes()) {
			t.Errorf("a released window after the budget is spent: %d, want 200 with the same bytes", rec.Code)
		}
		if rec := get(replica, "/api/partner/v1/aggregates?from=2026-03-10&to=2026-03-11"); rec.Code != http.StatusTooManyRequests {
			t.Errorf("a new window past the budget on the other replica: %d, want 429", rec.Code)
		}
	})
}
