package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/admin"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/browsertest"
	"github.com/footfall/footfall/web/dashboard"
	"github.com/footfall/footfall/web/reports"
	"github.com/footfall/footfall/web/share"
)

// day0 is the last day of the seeded events: the store conformance
// fixture's, repeated over the ten days up to day 0.
var day0 = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)

// testServer is the dashboard and the reports API, served the way footfall
// serve serves them, with real sign-in, on a seeded and aggregated store
// (SQLite; ClickHouse for the sampled mode).
type testServer struct {
	URL     string
	site    string
	fixture *authtest.Fixture
	st      testStore
}

// testStore is what the tests ask of either backend.
type testStore interface {
	app.Store
	aggregator.Store
	authtest.Store
	ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error)
	AddSite(ctx context.Context, domain string) (store.Site, error)
	RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error
	SetTOTP(ctx context.Context, t store.TOTP) error
	Annotations(ctx context.Context, siteID uint32) ([]store.Annotation, error)
	Segments(ctx context.Context, siteID uint32) ([]store.Segment, error)
}

func newServer(t *testing.T) *testServer {
	t.Helper()
	return newServerWith(t, nil, nil)
}

// newServerWith is newServer with a config for the reports (nil: none)
// and, when extra is set, its events for the site stored with the
// fixture's before aggregation.
func newServerWith(t *testing.T, cfg *config.Config, extra func(site uint32) []store.Event) *testServer {
	t.Helper()
	return newServerOn(t, sqlitetest.Open(t), cfg, extra, 0)
}

// newServerOn is newServerWith on the store st, its reports sampling above
// sampleAbove raw events (0: never).
func newServerOn(t *testing.T, st testStore, cfg *config.Config, extra func(site uint32) []store.Event, sampleAbove uint64) *testServer {
	t.Helper()
	ctx := context.Background()
	site, err := st.AddSite(ctx, "shop.example")
	if err != nil {
		t.Fatal(err)
	}
	fix := storetest.LoadRollupFixture(t)
	last := fix.Events[0].Time
	for _, ev := range fix.Events {
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	// Day k repeats the fixture's events k days before day 0, thinned
	// differently each day and as other visitors, so the chart has a shape.
	var days storetest.RollupFixture
	days.Consent = fix.Consent
	for k := range 10 {
		shift := day0.Sub(time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)) - time.Duration(k)*24*time.Hour
		for i, ev := range fix.Events {
			if k > 0 && i%(k%4+2) == 0 {
				continue
			}
			ev.ID[0] ^= byte(k)
			ev.ID[1] ^= byte(k * 7)
			ev.VisitorKey ^= uint64(k) << 40
			ev.SessionID ^= uint64(k) << 40
			ev.Time, ev.ReceivedAt = ev.Time.Add(shift), ev.ReceivedAt.Add(shift)
			days.Events = append(days.Events, ev)
		}
	}
	storetest.SeedRollupFixture(t, st, days, site.ID)
	if extra != nil {
		if err := st.InsertEvents(ctx, extra(site.ID)); err != nil {
			t.Fatal(err)
		}
	}
	// The privacy policy changed once, five days before day 0.
	for v, since := range map[uint32]time.Time{1: day0.AddDate(0, -3, 0), 2: day0.AddDate(0, 0, -5).Add(9 * time.Hour)} {
		if err := st.RecordPolicyVersion(ctx, site.ID, v, since); err != nil {
			t.Fatal(err)
		}
	}
	agg := aggregator.New(aggregator.Options{Store: st, Lookback: 30 * 24 * time.Hour, Now: func() time.Time { return day0.AddDate(0, 0, 1).Add(30 * time.Minute) }})
	if sum, err := agg.Once(ctx); err != nil || sum.Failed != 0 {
		t.Fatalf("aggregate: %+v, %v", sum, err)
	}

	f := authtest.New(t, st, auth.Options{})
	d, err := dashboard.New()
	if err != nil {
		t.Fatal(err)
	}
	// The reports' clock is a minute after the last visit of day 0 starts
	// (as in web/reports' tests): that visitor is current.
	now := day0.Add(22*time.Hour + 32*time.Minute)
	rp := reports.New(reports.Options{Store: st, Config: cfg, Now: func() time.Time { return now }, SampleAbove: sampleAbove})
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	sh, err := share.New(share.Options{Store: st, PublicURL: srv.URL, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	configured := func(domain string) []store.Goal {
		if cfg == nil {
			return nil
		}
		return cfg.SiteGoals(domain)
	}
	ad := admin.New(admin.Options{Store: st, Goals: configured, Now: func() time.Time { return now }})
	srv.Config.Handler = server.New(server.Options{Auth: f.Auth, Dashboard: d, Reports: rp, Share: sh, Admin: ad, Store: st})
	return &testServer{URL: srv.URL, site: site.Domain, fixture: f, st: st}
}

// get fetches path with the session cookie and returns status, header and body.
func (s *testServer) get(t *testing.T, path, cookie string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return resp.StatusCode, resp.Header, b.String()
}

// getJSON fetches an API path with the session cookie; ok is false for a
// refusal (a 400 for a query the API cannot answer).
func (s *testServer) getJSON(t *testing.T, cookie, path string, q url.Values, v any) (ok bool) {
	t.Helper()
	code, _, body := s.get(t, path+"?"+q.Encode(), cookie)
	if code == http.StatusBadRequest {
		return false
	}
	if err := json.Unmarshal([]byte(body), v); err != nil || code != 200 {
		t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), code, body)
	}
	return true
}

// aggregate asks the API for each top-line number of a query; the ones it
// cannot answer for the query are left out.
func (s *testServer) aggregate(t *testing.T, cookie string, q url.Values) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	for _, metric := range []string{"visitors", "visits", "pageviews", "bounce_rate", "visit_duration", "engaged_time"} {
		q.Set("metrics", metric)
		var out struct {
			Results map[string]struct{ Value float64 }
		}
		if s.getJSON(t, cookie, "/api/v1/stats/aggregate", q, &out) {
			m[metric] = out.Results[metric].Value
		}
	}
	return m
}

func TestPageHeaders(t *testing.T) {
	s := newServer(t)
	code, hd, body := s.get(t, "/", "")
	if code != 200 {
		t.Fatalf("GET / = %d", code)
	}
	if got := hd.Get("Content-Security-Policy"); got != dashboard.CSP || !strings.Contains(got, "script-src 'self'") {
		t.Errorf("CSP %q, want %q", got, dashboard.CSP)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, "onclick=") {
		t.Error("the page holds inline script or style")
	}
	for _, ext := range []string{".js", ".css"} {
		i := strings.Index(body, dashboard.AssetPrefix+"dashboard.")
		if i < 0 {
			t.Fatalf("page names no asset: %s", body)
		}
		rest := body[i:]
		path := rest[:strings.IndexByte(rest, '"')]
		if !strings.HasSuffix(path, ext) {
			rest = rest[len(path):]
			j := strings.Index(rest, dashboard.AssetPrefix+"dashboard.")
			rest = rest[j:]
			path = rest[:strings.IndexByte(rest, '"')]
		}
		code, hd, _ := s.get(t, path, "")
		if code != 200 || !strings.Contains(hd.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s = %d, Cache-Control %q", path, code, hd.Get("Cache-Control"))
		}
	}
	if code, _, _ := s.get(t, dashboard.AssetPrefix+"nope.js", ""); code != 404 {
		t.Errorf("GET unknown asset = %d, want 404", code)
	}
}

// newBrowser starts the test's headless Chromium at desktop size.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.New(t, chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1280, 800))
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// shown reads the top-line numbers as the page shows them (data-value).
func shown(t *testing.T, ctx context.Context) map[string]float64 {
	t.Helper()
	return eval[map[string]float64](t, ctx, `Object.fromEntries([...document.querySelectorAll('#numbers .number')].map(li => [li.dataset.metric, Number(li.querySelector('.value').dataset.value)]))`)
}

func checkNumbers(t *testing.T, ctx context.Context, want map[string]float64) {
	t.Helper()
	got := shown(t, ctx)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s shown as %v, API says %v", k, got[k], v)
		}
	}
}

// artifacts is where screenshots go: $FOOTFALL_ARTIFACTS, else a temporary directory.
func artifacts(t *testing.T) string {
	if dir := os.Getenv("FOOTFALL_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := artifacts(t)
	// Let the layout settle (fonts, the chart) before the picture.
	eval[bool](t, ctx, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
	png := run(t, ctx, chromedp.FullScreenshot(100))
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
}

// settled is true once every request the page started has been answered.
const settled = `!!document.querySelector('#numbers .number') && !document.querySelector('[aria-busy=true]') && !!document.querySelector('#chart svg, #chart .empty') && document.querySelectorAll('#consent tr').length > 1`

func TestBrowserDashboard(t *testing.T) {
	s := newServer(t)
	ctx := newBrowser(t)
	email := s.fixture.Email(auth.RoleAnalyst)

	// Every page records what the Content-Security-Policy refuses.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = []; document.addEventListener('securitypolicyviolation', e => cspViolations.push(e.violatedDirective + ' ' + e.blockedURI))`,
	}); err != nil {
		t.Fatal(err)
	}
	checkCSP := func() {
		t.Helper()
		if !eval[bool](t, ctx, `Array.isArray(window.cspViolations)`) {
			t.Error("the CSP listener is not installed")
		} else if v := eval[[]string](t, ctx, `window.cspViolations`); len(v) > 0 {
			t.Errorf("Content-Security-Policy violations: %v", v)
		}
	}
	t.Cleanup(checkCSP)

	// Signed out: the login form.
	do(t, ctx, chromedp.Navigate(s.URL+"/"))
	waitJS(t, ctx, "the login form", `!document.getElementById('login').hidden && document.getElementById('app').hidden`)
	screenshot(t, ctx, "dashboard-login.png")

	// A wrong password says so and stays on the form.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), "wrong password"),
		chromedp.Click(chromedp.CSS(`#login-submit`)))
	waitJS(t, ctx, "the login error", `document.getElementById('login-error').textContent.length > 0`)
	eval[bool](t, ctx, `(document.getElementById('password').value = '', true)`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#password`), s.fixture.Password+kb.Enter))
	waitJS(t, ctx, "the dashboard", settled)
	// One level-one heading on the page as shown (axe-core page-has-heading-one).
	if n := eval[int](t, ctx, `[...document.querySelectorAll('h1')].filter(h => h.closest('[hidden]') == null).length`); n != 1 {
		t.Errorf("%d visible h1 on the dashboard, want 1", n)
	}

	// A table card says it is loading until its rows arrive: render and
	// read in one task, before any answer can come.
	loading := eval[[]string](t, ctx, `(() => {
		document.querySelector('#card-0 .tab[aria-pressed=false]').click()
		return [...document.querySelectorAll('.table-body')].map(b => b.getAttribute('aria-busy') + ' ' + b.textContent)
	})()`)
	if len(loading) == 0 {
		t.Error("no table cards")
	}
	for _, l := range loading {
		if l != "true Loading…" {
			t.Errorf("a table card while loading: %q, want busy and Loading…", l)
		}
	}
	waitJS(t, ctx, "the tables", `document.querySelectorAll('.table-body[aria-busy]').length == 0`)

	var cookie string
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == auth.CookieName {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("no session cookie after login")
	}
	if got := eval[string](t, ctx, `location.search`); !strings.Contains(got, "site="+s.site) || !strings.Contains(got, "period=30d") {
		t.Errorf("URL query %q, want the site and the default period", got)
	}
	checkNumbers(t, ctx, s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"30d"}}))

	// Today: the lines stop at the current hour, not at midnight. The
	// fixture's day is not the browser's, so the page's clock is set to
	// half past 11 of that day.
	today := eval[[]int](t, ctx, `(async () => {
		const b = await (await fetch('/api/v1/stats/timeseries?site=' + encodeURIComponent(new URLSearchParams(location.search).get('site')) + '&period=day&interval=hour&metrics=visitors,pageviews')).json()
		const rows = b.results || b.data || b
		const at = new Date(rows[11].date).getTime() + 30 * 60e3
		window.realNow = Date.now
		Date.now = () => at
		document.getElementById('chart').textContent = ''
		const s = document.getElementById('period')
		s.value = 'day'
		s.dispatchEvent(new Event('change'))
		for (let i = 0; i < 200 && !document.querySelector('#chart polyline'); i++) await new Promise(r => setTimeout(r, 25))
		return [rows.length, document.querySelector('#chart polyline').getAttribute('points').trim().split(/\s+/).length]
	})()`)
	if rows, points := today[0], today[1]; rows != 24 || points != 12 {
		t.Errorf("today at 11:30: %d hours, %d points drawn; want 24 hours and 12 points (00:00 to 11:00)", rows, points)
	}
	eval[bool](t, ctx, `(Date.now = window.realNow, true)`)

	// Pick a period: the numbers, chart and tables follow.
	eval[bool](t, ctx, `(s => (s.value = '7d', s.dispatchEvent(new Event('change')), true))(document.getElementById('period'))`)
	waitJS(t, ctx, "the 7-day view", `location.search.includes('period=7d') && document.querySelectorAll('#chart table tbody tr').length == 7`)
	waitJS(t, ctx, "the 7-day numbers", settled)
	week := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}})
	if week["visitors"] == 0 || week["pageviews"] == 0 {
		t.Fatalf("the seeded week has no visitors or pageviews: %v", week)
	}
	checkNumbers(t, ctx, week)
	if got := eval[string](t, ctx, `document.querySelector('#numbers [data-metric=visitors] .change')?.textContent || ''`); !strings.HasSuffix(got, "%") {
		t.Errorf("visitors change %q, want a percentage", got)
	}
	if eval[int](t, ctx, `document.querySelectorAll('#chart svg polyline').length`) != 2 {
		t.Error("the chart has not two lines")
	}
	var series struct{ Results []map[string]any }
	s.getJSON(t, cookie, "/api/v1/stats/timeseries", url.Values{"site": {s.site}, "period": {"7d"}, "interval": {"day"}, "metrics": {"visitors,pageviews"}}, &series)
	var want []string
	for _, p := range series.Results {
		want = append(want, fmt.Sprint(p["visitors"], "/", p["pageviews"]))
	}
	got := eval[[]string](t, ctx, `[...document.querySelectorAll('#chart table tbody tr')].map(tr => tr.children[1].textContent + '/' + tr.children[2].textContent)`)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("chart table visitors/pageviews %v, API %v", got, want)
	}
	// Hovering the chart shows the point's values.
	eval[bool](t, ctx, `(svg => { const b = svg.getBoundingClientRect(); svg.dispatchEvent(new MouseEvent('mousemove', {clientX: b.right - 2, clientY: b.top + 20, bubbles: true})); return true })(document.querySelector('#chart svg'))`)
	if tip := eval[string](t, ctx, `(t => t.hidden ? '' : t.textContent)(document.querySelector('#chart .tip'))`); !strings.Contains(tip, "visitors") {
		t.Errorf("chart tooltip %q, want the point's visitors", tip)
	}

	// The referrers table shows what the breakdown API returns for the
	// metric the table shows (visitors, or visits where the API has none).
	click := func(sel string) {
		t.Helper()
		do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	}
	type row struct {
		Value  string  `json:"value"`
		Metric string  `json:"metric"`
		N      float64 `json:"n"`
	}
	// A tab of every kind of dimension: one from the start, one added with
	// the dimension table (store.Dimensions) that the API serves as tabs.
	for _, tab := range []struct {
		card int
		prop string
	}{{1, "referrer_host"}, {1, "utm_content"}, {3, "language"}} {
		click(fmt.Sprintf(`#card-%d .tab[data-property=%s]`, tab.card, tab.prop))
		waitJS(t, ctx, "the "+tab.prop+" table", fmt.Sprintf(`!!document.querySelector('#card-%d table[data-property=%s] tbody tr')`, tab.card, tab.prop))
		rows := eval[[]row](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('#card-%d table tbody tr')].map(tr => (td => ({value: tr.dataset.value, metric: td.dataset.metric, n: Number(td.dataset.value)}))(tr.querySelector('[data-metric]')))`, tab.card))
		var api struct{ Results []map[string]any }
		s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"7d"}, "property": {tab.prop}, "metrics": {rows[0].Metric}, "limit": {"10"}}, &api)
		if len(rows) != len(api.Results) || len(rows) < 2 {
			t.Fatalf("%s table has %d rows, API %d; want the same, at least 2", tab.prop, len(rows), len(api.Results))
		}
		for i, r := range api.Results {
			if rows[i].Value != r[tab.prop] || rows[i].N != r[rows[i].Metric] {
				t.Errorf("%s row %d: %+v, API %v", tab.prop, i, rows[i], r)
			}
		}
	}
	click(`#card-3 .tab[data-property=device]`)
	waitJS(t, ctx, "the devices", `!!document.querySelector('#card-3 table[data-property=device] tbody tr')`)
	click(`#card-1 .tab[data-property=referrer_host]`)
	waitJS(t, ctx, "the referrers", `!!document.querySelector('#card-1 table[data-property=referrer_host] tbody tr')`)
	rows := eval[[]row](t, ctx, `[...document.querySelectorAll('#card-1 table tbody tr')].map(tr => (td => ({value: tr.dataset.value, metric: td.dataset.metric, n: Number(td.dataset.value)}))(tr.querySelector('[data-metric]')))`)
	screenshot(t, ctx, "dashboard-desktop.png")

	// Keyboard: Enter on a focused device row filters by it; the chip's
	// button removes the filter.
	eval[bool](t, ctx, `(document.querySelector('#card-3 tbody tr').focus(), true)`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "the device filter", `document.querySelectorAll('#filters .chip').length == 1 && location.search.includes('filters=device%3D%3D')`)
	waitJS(t, ctx, "the device view", settled)
	eval[bool](t, ctx, `(document.querySelector('#filters .chip-x').focus(), true)`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitJS(t, ctx, "no filter", `document.querySelectorAll('#filters .chip').length == 0 && !location.search.includes('filters')`)
	waitJS(t, ctx, "the unfiltered view", settled+` && !!document.querySelector('#card-1 tbody tr')`)

	// Click a referrer: the filter is a chip, in the URL, and the numbers change.
	ref := rows[1].Value
	click(fmt.Sprintf(`#card-1 tr[data-value=%q]`, ref))
	waitJS(t, ctx, "the filter", fmt.Sprintf(`location.search.includes(%q) && document.querySelectorAll('#filters .chip').length == 1`, "filters="+url.QueryEscape("referrer_host=="+ref)))
	waitJS(t, ctx, "the filtered view", settled)
	filtered := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}, "filters": {"referrer_host==" + ref}})
	if m := rows[1].Metric; filtered[m] != rows[1].N || filtered[m] == week[m] {
		t.Errorf("%s from %s: %v; want the row's %v, not the week's %v", m, ref, filtered[m], rows[1].N, week[m])
	}
	waitJS(t, ctx, "the filtered numbers", fmt.Sprintf(`document.querySelector('#numbers [data-metric=visits] .value')?.dataset.value == '%v'`, filtered["visits"]))
	checkNumbers(t, ctx, filtered)

	// A shared link opens the same view.
	checkCSP()
	shared := eval[string](t, ctx, `location.href`)
	do(t, ctx, chromedp.Navigate(shared))
	waitJS(t, ctx, "the shared view", settled+` && document.querySelectorAll('#filters .chip').length == 1`)
	checkNumbers(t, ctx, filtered)
	screenshot(t, ctx, "dashboard-filtered.png")

	// Click a device in another table: both filters hold (AND), each a
	// chip, both in the URL, and the numbers and tables are the API's for
	// the two together.
	dev := eval[string](t, ctx, `document.querySelector('#card-3 table[data-property=device] tbody tr').dataset.value`)
	click(fmt.Sprintf(`#card-3 tr[data-value=%q]`, dev))
	both := "referrer_host==" + ref + ";device==" + dev
	waitJS(t, ctx, "two filters", fmt.Sprintf(`location.search.includes(%q) && document.querySelectorAll('#filters .chip').length == 2`, "filters="+url.QueryEscape(both)))
	waitJS(t, ctx, "the view of two filters", settled)
	anded := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}, "filters": {both}})
	if len(anded) != 6 {
		t.Errorf("the API answers %d of 6 numbers under two filters: %v", len(anded), anded)
	}
	devOnly := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}, "filters": {"device==" + dev}})
	if anded["visits"] == 0 || anded["visits"] >= filtered["visits"] && anded["visits"] >= devOnly["visits"] {
		t.Errorf("visits under %s: %v; want some, fewer than under either filter alone (%v, %v)", both, anded["visits"], filtered["visits"], devOnly["visits"])
	}
	waitJS(t, ctx, "the numbers of two filters", fmt.Sprintf(`document.querySelector('#numbers [data-metric=visits] .value')?.dataset.value == '%v'`, anded["visits"]))
	checkNumbers(t, ctx, anded)
	metric := eval[string](t, ctx, `document.querySelector('#card-1 table tbody tr [data-metric]').dataset.metric`)
	var refs2 struct{ Results []map[string]any }
	s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"7d"}, "property": {"referrer_host"}, "metrics": {metric}, "limit": {"10"}, "filters": {both}}, &refs2)
	rows2 := eval[[]row](t, ctx, `[...document.querySelectorAll('#card-1 table tbody tr')].map(tr => (td => ({value: tr.dataset.value, metric: td.dataset.metric, n: Number(td.dataset.value)}))(tr.querySelector('[data-metric]')))`)
	if len(rows2) != len(refs2.Results) || len(rows2) == 0 {
		t.Fatalf("referrers under two filters: %d rows, API %d", len(rows2), len(refs2.Results))
	}
	for i, r := range refs2.Results {
		if rows2[i].Value != r["referrer_host"] || rows2[i].N != r[metric] {
			t.Errorf("referrer row %d under two filters: %+v, API %v", i, rows2[i], r)
		}
	}
	screenshot(t, ctx, "dashboard-two-filters.png")
	// Remove the device chip: the referrer filter alone again.
	click(`#filters .chip[data-dim=device] .chip-x`)
	waitJS(t, ctx, "one filter again", fmt.Sprintf(`document.querySelectorAll('#filters .chip').length == 1 && location.search.includes(%q) && !location.search.includes('device%%3D%%3D')`, "filters="+url.QueryEscape("referrer_host=="+ref)))
	waitJS(t, ctx, "the referrer view again", settled+fmt.Sprintf(` && document.querySelector('#numbers [data-metric=visits] .value')?.dataset.value == '%v'`, filtered["visits"]))
	checkNumbers(t, ctx, filtered)

	// Every table has a CSV link; the referrers' downloads CSV with the session.
	hrefs := eval[[]string](t, ctx, `[...document.querySelectorAll('a.csv')].map(a => a.href)`)
	if len(hrefs) < 7 {
		t.Errorf("%d CSV links, want one per table", len(hrefs))
	}
	for _, href := range hrefs {
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("format") != "csv" {
			t.Errorf("CSV link %s: want format=csv", href)
		}
	}
	refCSV := eval[string](t, ctx, `document.querySelector('#card-1 a.csv').href`)
	code, hd, body := s.get(t, strings.TrimPrefix(refCSV, s.URL), cookie)
	if code != 200 || !strings.HasPrefix(hd.Get("Content-Type"), "text/csv") || !strings.HasPrefix(body, "referrer_host,") || !strings.Contains(body, ref+",") {
		t.Errorf("GET %s: %d %s %.80q; want CSV with a referrer_host column and the row of %s", refCSV, code, hd.Get("Content-Type"), body, ref)
	}
	if code, _, _ := s.get(t, strings.TrimPrefix(refCSV, s.URL), ""); code != http.StatusUnauthorized {
		t.Errorf("CSV without the session: %d, want 401", code)
	}

	// Current visitors, aggregator status and consent rates are shown.
	var now struct{ Visitors int }
	s.getJSON(t, cookie, "/api/v1/stats/realtime", url.Values{"site": {s.site}}, &now)
	if now.Visitors == 0 {
		t.Error("no current visitors in the seeded data")
	}
	if got, want := eval[string](t, ctx, `document.getElementById('realtime-text').textContent`), fmt.Sprint(now.Visitors, " current visitor"); !strings.HasPrefix(got, want) {
		t.Errorf("realtime %q, want %q", got, want)
	}
	if got := eval[string](t, ctx, `document.getElementById('aggregator').textContent`); !strings.HasPrefix(got, "Aggregated ") || strings.Contains(got, "never") {
		t.Errorf("aggregator status %q, want the last run", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#consent tbody tr').length`); n == 0 {
		t.Error("no consent categories shown")
	}
	checkNewsletter(t, ctx, s, cookie, url.Values{"site": {s.site}, "period": {"7d"}})
	// The policy versions, newest first, with the day each took effect.
	if got, want := eval[string](t, ctx, `document.getElementById('policy-versions').textContent`),
		"Privacy policy: version 2 since "+day0.AddDate(0, 0, -5).Format(time.DateOnly)+" (current)version 1 since "+day0.AddDate(0, -3, 0).Format(time.DateOnly); got != want {
		t.Errorf("policy versions %q, want %q", got, want)
	}

	// Phone width.
	do(t, ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	waitJS(t, ctx, "the chart at phone width", `(s => !!s && s.getAttribute('width') < 400)(document.querySelector('#chart svg'))`)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("page is %d px wide at 375 px: it scrolls sideways", w)
	}
	if over := eval[[]string](t, ctx, `[...document.querySelectorAll('.card')].filter(c => c.scrollWidth > c.clientWidth).map(c => c.id || c.className)`); len(over) > 0 {
		t.Errorf("cards wider than the phone: %v", over)
	}
	screenshot(t, ctx, "dashboard-phone.png")
	do(t, ctx, chromedp.EmulateViewport(1280, 800))
	waitJS(t, ctx, "the chart at desktop width", `(s => !!s && s.getAttribute('width') > 600)(document.querySelector('#chart svg'))`)

	// A dark colour scheme is followed.
	light := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`)
	dark := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: dark}); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); got == light {
		t.Errorf("background %s in the dark scheme too", got)
	}
	screenshot(t, ctx, "dashboard-dark.png")

	// A custom range.
	eval[bool](t, ctx, `(s => (s.value = 'custom', s.dispatchEvent(new Event('change')), true))(document.getElementById('period'))`)
	waitJS(t, ctx, "the date inputs", `!document.getElementById('custom').hidden`)
	eval[bool](t, ctx, `(document.getElementById('from').value = '2026-03-12', document.getElementById('to').value = '2026-03-14', true)`)
	click(`#apply`)
	waitJS(t, ctx, "the custom range", `location.search.includes('period=custom&from=2026-03-12&to=2026-03-14') && document.querySelectorAll('#chart table tbody tr').length == 3`)
	waitJS(t, ctx, "the custom numbers", settled)
	checkNumbers(t, ctx, s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"custom"}, "from": {"2026-03-12"}, "to": {"2026-03-14"}, "filters": {"referrer_host==" + ref}}))

	// Log out: the login form again, and the session is gone.
	click(`#logout`)
	waitJS(t, ctx, "the login form", `!document.getElementById('login').hidden && document.getElementById('app').hidden`)
	if code, _, _ := s.get(t, "/api/v1/me", cookie); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/me with the old session = %d, want 401", code)
	}
}

// checkNewsletter compares the newsletter card with the breakdowns of the
// two e-mail dimensions: one row per campaign and link, its opens and
// clicks, the campaign unescaped.
func checkNewsletter(t *testing.T, ctx context.Context, s *testServer, cookie string, q url.Values) {
	t.Helper()
	type cell struct {
		Campaign, Link string
		Opens, Clicks  float64
	}
	want := map[string]cell{}
	for _, dim := range []string{store.DimEmailOpen, store.DimEmailClick} {
		var out struct{ Results []map[string]any }
		q.Set("property", dim)
		q.Set("metrics", "events")
		q.Set("limit", "100")
		s.getJSON(t, cookie, "/api/v1/stats/breakdown", q, &out)
		for _, r := range out.Results {
			v, _ := r[dim].(string)
			campaign, link, err := store.ParseEmailValue(v)
			if err != nil {
				t.Fatal(err)
			}
			c := want[v]
			c.Campaign, c.Link = campaign, link
			if dim == store.DimEmailOpen {
				c.Opens = r["events"].(float64)
			} else {
				c.Clicks = r["events"].(float64)
			}
			want[v] = c
		}
	}
	if len(want) < 2 {
		t.Fatalf("the seeded data has %d newsletter links, want several", len(want))
	}
	waitJS(t, ctx, "the newsletter card", `!!document.querySelector('#newsletter tbody tr')`)
	got := eval[map[string]cell](t, ctx, `Object.fromEntries([...document.querySelectorAll('#newsletter tbody tr')].map(tr => [tr.dataset.value, {
		Campaign: tr.children[0].textContent, Link: tr.children[1].textContent,
		Opens: Number(tr.querySelector('[data-metric=opens]').dataset.value), Clicks: Number(tr.querySelector('[data-metric=clicks]').dataset.value)}]))`)
	for v, c := range want {
		if c.Link == "" {
			c.Link = "(none)"
		}
		if got[v] != c {
			t.Errorf("newsletter row %q: %+v, want %+v", v, got[v], c)
		}
	}
	if len(got) != len(want) {
		t.Errorf("newsletter card has %d rows, the API %d", len(got), len(want))
	}
}

// TestBrowserLoginCSRF: a page of another site that posts a login form to
// Footfall with the attacker's credentials must not sign the browser in
// (the victim would then work in the attacker's account).
func TestBrowserLoginCSRF(t *testing.T) {
	s := newServer(t)
	ctx := newBrowser(t)
	form := `<!doctype html><form method="post" action="` + s.URL + `/login">` +
		`<input name="email" value="` + s.fixture.Email(auth.RoleAdmin) + `">` +
		`<input name="password" value="` + s.fixture.Password + `"></form>` +
		`<script>document.forms[0].submit()</script>`
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, form)
	}))
	t.Cleanup(evil.Close)
	// localhost is another site than the 127.0.0.1 Footfall is served on.
	do(t, ctx, chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)))
	waitJS(t, ctx, "the login answer", `location.pathname === '/login' && document.readyState === 'complete'`)
	body := eval[string](t, ctx, `document.body.innerText`)
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == auth.CookieName {
			t.Errorf("a form posted from another site signed the browser in (answer %q)", body)
		}
	}
	if !strings.Contains(body, "another site") {
		t.Errorf("answer to the cross-site login: %q, want the refusal", body)
	}
}

// TestBrowserTOTPLogin signs in through the dashboard's form as a user with
// a second factor: the form asks for the code after the password, and the
// code an authenticator app would show (computed here) signs in.
func TestBrowserTOTPLogin(t *testing.T) {
	s := newServer(t)
	email := s.fixture.Email(auth.RoleAdmin)
	u, err := s.st.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	factor, _, err := auth.NewTOTP(u.ID, u.Email, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.st.SetTOTP(context.Background(), factor); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	do(t, ctx, chromedp.Navigate(s.URL+"/"))
	waitJS(t, ctx, "the login form", `!document.getElementById('login').hidden && document.getElementById('code-label').hidden`)
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), s.fixture.Password+kb.Enter))
	waitJS(t, ctx, "the code field", `!document.getElementById('code-label').hidden && document.activeElement.id === 'code'`)
	if app := eval[bool](t, ctx, `document.getElementById('app').hidden`); !app {
		t.Fatal("the password alone opened the dashboard")
	}
	code, err := totp.GenerateCode(factor.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#code`), code+kb.Enter))
	waitJS(t, ctx, "the dashboard", `!document.getElementById('app').hidden && document.getElementById('login').hidden`)
	screenshot(t, ctx, "dashboard-totp.png")
}

// TestBrowserShareLinks: an admin makes a share link in the dashboard, sees
// it once and listed, opens it, and revokes it there (then it answers 410);
// an analyst has no share links card.
func TestBrowserShareLinks(t *testing.T) {
	s := newServer(t)
	ctx := newBrowser(t)
	login := func(role auth.Role) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(s.URL+"/"))
		waitJS(t, ctx, "the login form", `!document.getElementById('login').hidden`)
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS(`#email`), s.fixture.Email(role)),
			chromedp.SendKeys(chromedp.CSS(`#password`), s.fixture.Password+kb.Enter))
		waitJS(t, ctx, "the dashboard", settled)
	}
	login(auth.RoleAnalyst)
	if hidden := eval[bool](t, ctx, `document.getElementById('shares-card').hidden`); !hidden {
		t.Error("an analyst sees the share links card")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#logout`)))
	waitJS(t, ctx, "signed out", `!document.getElementById('login').hidden`)

	login(auth.RoleAdmin)
	waitJS(t, ctx, "the share links card", `!document.getElementById('shares-card').hidden && !!document.querySelector('#shares .empty')`)
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#share-name`), "board"),
		chromedp.Click(chromedp.CSS(`#share-create`)))
	waitJS(t, ctx, "the new link", `!document.getElementById('share-new').hidden && !!document.querySelector('#shares tr[data-state=active]')`)
	link := eval[string](t, ctx, `document.getElementById('share-url').value`)
	if !strings.HasPrefix(link, s.URL+"/share/ffs_") {
		t.Fatalf("new link %q: want %s/share/ffs_…", link, s.URL)
	}
	if row := eval[string](t, ctx, `document.querySelector('#shares tbody tr').innerText`); !strings.Contains(row, "board") || !strings.Contains(row, "active") {
		t.Errorf("listed: %q", row)
	}
	screenshot(t, ctx, "dashboard-share-links.png")

	// The link opens the read-only page of the site.
	tab, cancel := chromedp.NewContext(ctx)
	defer cancel()
	do(t, tab, chromedp.Navigate(link))
	waitJS(t, tab, "the share page", `!!document.body.dataset.loaded`)
	if site := eval[string](t, tab, `document.getElementById('site').textContent`); site != s.site {
		t.Errorf("share page of %q, want %s", site, s.site)
	}

	// Revoke asks once more, then the link is gone.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#shares button[data-revoke]`)))
	waitJS(t, ctx, "the confirmation", `document.querySelector('#shares button[data-revoke]').textContent == 'Really revoke'`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#shares button[data-revoke]`)))
	waitJS(t, ctx, "the revoked link", `!!document.querySelector('#shares tr[data-state=revoked]')`)
	if code, _, body := s.get(t, strings.TrimPrefix(link, s.URL), ""); code != http.StatusGone {
		t.Errorf("revoked link: %d %s, want 410", code, body)
	}
}
