package web_test

// Browser tests: the tracker and the consent banner in a real headless
// Chromium (Debian's), driven over the DevTools protocol. The test pages are
// served from http://localhost:PORT; the collector is another origin,
// http://127.0.0.1:PORT, so every script load and beacon crosses origins as
// on a real site.

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/browsertest"
)

// userAgent is headless Chromium's, with the marker the test collector's
// bot filter allows.
const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36 " + uaMarker

// newBrowser starts the test's headless Chromium, with the user agent the
// test collector's bot filter allows.
func newBrowser(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	return browsertest.New(t, append([]chromedp.ExecAllocatorOption{chromedp.UserAgent(userAgent), chromedp.WindowSize(1000, 720)}, opts...)...)
}

// pageOpts shape a test page.
type pageOpts struct {
	Lang  string            // <html lang>, default en
	Attrs template.HTMLAttr // more attributes of the tracker's tag
	Head  template.HTML     // markup before the tracker, such as a consent platform's stub
	Body  template.HTML     // more markup at the end of the body
	Site  string            // data-site, default shop.test
	CSP   string            // the page's Content-Security-Policy header, if any
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Footfall test shop</title>
<script>window.footfall=window.footfall||function(){(footfall.q=footfall.q||[]).push(arguments)};footfall('event','early',{from:'stub'})</script>
{{.Head}}
<script defer src="{{.Collector}}/f.js" data-site="{{.Site}}" data-exclude="/private/*" {{.Attrs}}></script>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem 3rem;color:#222} p{max-width:40rem}</style>
</head><body>
<h1>Footfall test shop</h1>
<p>Hand-made shoes, resoled for life. This page embeds the Footfall tracker with its built-in consent banner.</p>
<p><button id="buy" data-footfall-event="buy" data-footfall-prop-plan="pro"><span>Buy now</span></button>
<a id="out" href="{{.Outbound}}">Our partner</a>
<a id="menu" href="/files/price-list.pdf" onclick="return false">Price list (PDF)</a>
<a id="settings" href="#" data-footfall-consent-settings>Cookie settings</a></p>
<noscript><img src="{{.Collector}}/p.gif?site=shop.test" alt=""></noscript>
{{.Body}}
</body></html>`))

// pages serves the test pages on http://localhost:PORT and returns that
// origin; /landing on 127.0.0.1 is the outbound link's target.
func pages(t *testing.T, e *env, opts pageOpts) string {
	t.Helper()
	if opts.Lang == "" {
		opts.Lang = "en"
	}
	if opts.Site == "" {
		opts.Site = testSite
	}
	var origin string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/landing" {
			fmt.Fprint(w, "<!doctype html><title>Partner</title><p>Partner site</p>")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if opts.CSP != "" {
			w.Header().Set("Content-Security-Policy", opts.CSP)
		}
		err := pageTemplate.Execute(w, struct {
			pageOpts
			Collector, Outbound string
		}{opts, e.URL, strings.Replace(origin, "localhost", "127.0.0.1", 1) + "/landing"})
		if err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	origin = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	return origin
}

// open navigates to url with a referrer and waits for the page to load and
// the tracker to have read the policy and the cookie.
func open(t *testing.T, ctx context.Context, url, referrer string) {
	t.Helper()
	nav := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// The referrer as a search engine's link would send it, in full.
		res, err := cdp.Call(ctx, tg, page.Navigate, page.NavigateParams{URL: url, Referrer: referrer, ReferrerPolicy: page.ReferrerPolicyUnsafeURL})
		if err == nil && res.ErrorText != "" {
			err = errors.New(res.ErrorText)
		}
		return err
	})
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, nav)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	// The tracker has replaced the stub once it runs.
	run(t, ctx, chromedp.Poll[bool](`typeof footfall == 'function' && !footfall.q`, chromedp.WithPollingTimeout(10*time.Second)))
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

// inBanner is a JS path to an element of the banner's shadow root.
func inBanner(sel string) chromedp.JSPath {
	return chromedp.JSPath(`document.querySelector('#footfall-banner').shadowRoot.querySelector(` + jsQuote(sel) + `)`)
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

const bannerOpen = `!!document.querySelector('#footfall-banner')?.isConnected`

func waitBanner(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.Poll[bool](bannerOpen, chromedp.WithPollingTimeout(10*time.Second)))
}

func click[S chromedp.Selectable](t *testing.T, ctx context.Context, sel S) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		t.Fatalf("click %v: %v", sel, err)
	}
}

// cookies returns every cookie of the browser context, by name.
func cookies(t *testing.T, ctx context.Context, urls ...string) map[string]string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out
}

// storageKeys lists what the page keeps in localStorage and sessionStorage.
func storageKeys(t *testing.T, ctx context.Context) []string {
	return eval[[]string](t, ctx, `[...Object.keys(localStorage).map(k => 'local:' + k), ...Object.keys(sessionStorage).map(k => 'session:' + k)]`)
}

// allowed reports whether a request is one of those a page may make before
// the visitor decides: the scripts and the policy.
func allowedBeforeDecision(r request) bool {
	return r.Method == http.MethodGet && (r.Path == "/f.js" || strings.HasPrefix(r.Path, "/consent.") || r.Path == "/api/consent/policy")
}

func TestBrowserRejectAllSendsNothing(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})

	open(t, ctx, origin+"/shop", "https://search.example/?q=shoes")
	waitBanner(t, ctx)
	if bad := e.asked(func(r request) bool { return !allowedBeforeDecision(r) }); len(bad) > 0 {
		t.Errorf("before a decision the page asked the collector %+v; want only the scripts and the policy", bad)
	}
	if c := cookies(t, ctx, origin, e.URL); len(c) > 0 {
		t.Errorf("cookies before a decision: %v", c)
	}
	if keys := storageKeys(t, ctx); len(keys) > 0 {
		t.Errorf("storage before a decision: %v", keys)
	}
	role := eval[string](t, ctx, `(b => b.getAttribute('role') + ' ' + b.getAttribute('aria-modal'))(document.querySelector('#footfall-banner').shadowRoot.querySelector('.box'))`)
	if role != "dialog true" {
		t.Errorf("banner role and aria-modal %q, want dialog true", role)
	}

	click(t, ctx, inBanner("[data-a=reject]"))
	waitFor(t, "the rejection", func() bool { return len(e.asked(func(r request) bool { return r.Path == "/api/consent" })) == 1 })
	run(t, ctx, chromedp.Poll[bool](`document.cookie.includes('footfall_consent=')`))
	// Navigate as a single-page app, click tagged elements and links, queue
	// a custom event, and reload: nothing may be sent.
	eval[any](t, ctx, `history.pushState({}, '', '/shop/cart'); footfall('event', 'signup', {plan: 'pro'}); 1`)
	click(t, ctx, chromedp.CSS(`#buy`))
	click(t, ctx, chromedp.CSS(`#menu`))
	open(t, ctx, origin+"/shop/cart", "")
	if eval[bool](t, ctx, bannerOpen) {
		t.Error("the banner is shown again after a rejection")
	}
	eval[any](t, ctx, `document.dispatchEvent(new Event('visibilitychange')); 1`)

	if n := e.beacons(""); n != 0 {
		t.Errorf("%d beacons after Reject all, want 0", n)
	}
	c := cookies(t, ctx, origin, e.URL)
	if _, ok := c["footfall_consent"]; !ok || len(c) != 1 {
		t.Errorf("cookies %v, want footfall_consent only", c)
	}
	if keys := storageKeys(t, ctx); len(keys) > 0 {
		t.Errorf("storage after Reject all: %v", keys)
	}
	if rows := e.events(); len(rows) != 0 {
		t.Errorf("%d events stored after Reject all, want 0", len(rows))
	}
	e.checkSignals(0, store.SignalBanner)
}

func TestBrowserAcceptAllRecordsTheVisit(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})

	open(t, ctx, origin+"/shop?color=red#top", "https://search.example/results?q=shoes")
	waitBanner(t, ctx)
	if n := e.beacons(""); n != 0 {
		t.Fatalf("%d beacons before a decision: the queued event was sent early", n)
	}
	click(t, ctx, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", 1)
	if sid := eval[string](t, ctx, `sessionStorage.getItem('footfall_sid') || ''`); sid == "" {
		t.Error("no tab session id in sessionStorage after consent")
	}
	// The decision is a first-party cookie that lives as long as its token
	// (395 days by default).
	jar, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin}})
	if err != nil || len(jar.Cookies) != 1 {
		t.Fatalf("cookies %v, %v; want footfall_consent", jar.Cookies, err)
	}
	c := jar.Cookies[0]
	lifetime := time.Until(time.Unix(int64(c.Expires), 0))
	if c.Name != "footfall_consent" || c.SameSite != network.CookieSameSiteLax || c.Secure || c.Path != "/" || lifetime < 394*24*time.Hour || lifetime > 396*24*time.Hour {
		t.Errorf("cookie %s: SameSite %q, Secure %v, path %q, lifetime %s; want footfall_consent, Lax, not Secure on http, /, 395 days",
			c.Name, c.SameSite, c.Secure, c.Path, lifetime)
	}

	// A single-page navigation is one more page view; the same URL again,
	// and a reload, are not.
	eval[any](t, ctx, `history.pushState({}, '', '/shop/cart'); history.replaceState({}, '', '/shop/cart'); 1`)
	e.waitBeacons("pageview", 2)
	open(t, ctx, origin+"/shop/cart", "")
	// A purchase's revenue rides in the props (the tracker has no code for
	// it); the collector takes it out as the event's revenue.
	eval[any](t, ctx, `footfall('event', 'signup', {plan: 'pro', revenue: {amount: '19.90', currency: 'EUR'}}); 1`)
	e.waitBeacons("event", 2) // the stub's queued "early" event, then signup
	click(t, ctx, chromedp.CSS(`#buy span`))
	click(t, ctx, chromedp.CSS(`#menu`))
	e.waitBeacons("click", 2)
	// The visitor stays a moment, then follows the outbound link: the click
	// and the engaged time arrive as the page goes away.
	time.Sleep(1100 * time.Millisecond)
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`#out`)))); err != nil {
		t.Fatal(err)
	}
	e.waitBeacons("click", 3)
	e.waitBeacons("engagement", 1)
	if n := e.beacons("pageview"); n != 2 {
		t.Errorf("%d page views sent, want 2 (no double count on reload)", n)
	}
	// Page views carry the browser's language as it is; other events do not.
	lang := eval[string](t, ctx, `navigator.language`)
	for _, r := range e.asked(func(r request) bool { return r.Path == "/api/event" }) {
		if want := map[bool]string{true: lang}[r.Type == "pageview"]; r.Lang != want || (r.Type == "pageview" && lang == "") {
			t.Errorf("%s beacon: lang %q, want %q", r.Type, r.Lang, want)
		}
	}

	type row struct{ Type, Path, Referrer, Name, Target, Props string }
	var got []row
	for _, ev := range e.events() {
		r := row{Type: string(ev.Type), Path: ev.Path, Referrer: ev.Referrer, Name: ev.Name}
		if ev.Target != "" {
			r.Target = ev.Target[strings.LastIndex(ev.Target, "/"):]
		}
		for _, p := range ev.Props {
			r.Props += p.Key + "=" + p.Value + " "
		}
		got = append(got, r)
		if ev.Bot || ev.SessionID == 0 || ev.ConsentID.String() == "" {
			t.Errorf("event %s %s: bot %v, session %d; want a human visit with a session", ev.Type, ev.Path, ev.Bot, ev.SessionID)
		}
		if ev.Type == store.Engagement && (ev.EngagedMS < 1000 || ev.EngagedMS > 60000) {
			t.Errorf("engaged %d ms, want a second or more", ev.EngagedMS)
		}
		if rev := ev.RevenueAmount.String() + " " + ev.RevenueCurrency; (ev.Name == "signup") != (rev == "19.90 EUR") {
			t.Errorf("event %s %q: revenue %q, want 19.90 EUR on signup alone", ev.Type, ev.Name, rev)
		}
	}
	for _, want := range []row{
		{Type: "pageview", Path: "/shop", Referrer: "https://search.example/results"},
		{Type: "pageview", Path: "/shop/cart", Referrer: origin + "/shop"},
		{Type: "event", Path: "/shop/cart", Name: "early", Props: "from=stub "},
		{Type: "event", Path: "/shop/cart", Name: "signup", Props: "plan=pro "},
		{Type: "click", Path: "/shop/cart", Name: "buy", Props: "plan=pro "},
		{Type: "click", Path: "/shop/cart", Name: "download", Target: "/price-list.pdf"},
		{Type: "click", Path: "/shop/cart", Name: "outbound", Target: "/landing"},
		{Type: "engagement", Path: "/shop/cart"},
	} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("no stored event %+v; stored %+v", want, got)
		}
	}
}

func TestBrowserWithdrawStopsAtOnce(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})

	acceptAll(t, ctx, e, origin+"/shop")
	token := eval[string](t, ctx, `document.cookie.match(/footfall_consent=([^;]+)/)[1]`)

	// The re-open link shows the choices, with the withdrawal.
	click(t, ctx, chromedp.CSS(`#settings`))
	waitBanner(t, ctx)
	checked := eval[string](t, ctx, `[...document.querySelector('#footfall-banner').shadowRoot.querySelectorAll('[role=switch]')].map(s => s.getAttribute('aria-checked')).join(' ')`)
	if checked != "true true true true" {
		t.Errorf("switches %q after Accept all, want all on", checked)
	}
	click(t, ctx, inBanner("[data-a=withdraw]"))
	waitFor(t, "the withdrawal", func() bool {
		return len(e.asked(func(r request) bool { return r.Path == "/api/consent" && r.Action == "withdraw" })) == 1
	})
	sent := e.beacons("")
	eval[any](t, ctx, `history.pushState({}, '', '/shop/after'); footfall('event', 'late'); 1`)
	click(t, ctx, chromedp.CSS(`#buy`))
	open(t, ctx, origin+"/shop/later", "")
	if eval[bool](t, ctx, bannerOpen) {
		t.Error("the banner asks again after a withdrawal")
	}
	if n := e.beacons(""); n != sent {
		t.Errorf("%d beacons after the withdrawal, want none", n-sent)
	}
	if keys := storageKeys(t, ctx); len(keys) > 0 {
		t.Errorf("storage after the withdrawal: %v", keys)
	}
	if c := cookies(t, ctx, origin)["footfall_consent"]; !strings.HasPrefix(c, "r..") {
		t.Errorf("cookie after the withdrawal %q, want the rejection r..", c)
	}
	body := `{"site":"shop.test","type":"pageview","url":"https://shop.test/replay","token":"` + token + `"}`
	if code := e.postEvent(body); code != http.StatusNoContent {
		t.Errorf("an event with the withdrawn token: %d, want 204", code)
	}
	// The erasure is durable work that the collector's loop does.
	waitFor(t, "the withdrawn consent's events erased", func() bool { return len(e.events()) == 0 })
	e.checkSignals(0, store.SignalBanner, store.SignalBanner)
}

func TestBrowserGPCMeansNoMarketing(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Sec-GPC": "1"}}); err != nil {
		t.Fatal(err)
	}
	withGPC(t, ctx)

	open(t, ctx, origin+"/shop?utm_source=newsletter&gclid=abc123", "")
	waitBanner(t, ctx)
	click(t, ctx, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", 1)
	click(t, ctx, chromedp.CSS(`#buy`))
	e.waitBeacons("click", 1)

	if r := e.asked(func(r request) bool { return r.Path == "/api/event" && !r.GPC }); len(r) > 0 {
		t.Errorf("%d beacons without Sec-GPC", len(r))
	}
	rows := e.events()
	if len(rows) != 2 {
		t.Fatalf("%d events stored, want 2", len(rows))
	}
	for _, ev := range rows {
		// UTM tags are traffic-source data (analytics); the ad click id is marketing.
		if !ev.GPC || ev.Consent&4 != 0 || ev.UTMSource != "newsletter" || ev.ClickID != "" {
			t.Errorf("%s: GPC %v, consent %03b, utm_source %q, click id %q; want GPC, no marketing (no click id), utm_source newsletter", ev.Type, ev.GPC, ev.Consent, ev.UTMSource, ev.ClickID)
		}
	}
	// The decision itself asked for no marketing, and the token says GPC
	// was in force (the high bit).
	cats := eval[int](t, ctx, `atob(document.cookie.match(/footfall_consent=([^;]+)/)[1].split('.')[2].replace(/-/g,'+').replace(/_/g,'/')).charCodeAt(21)`)
	if cats != 0x80|3 {
		t.Errorf("token categories byte %08b, want the GPC bit, analytics and personalization only", cats)
	}
}

// A browser that sets navigator.globalPrivacyControl without sending
// Sec-GPC: the ledger still records the decision as GPC-automatic, and the
// events sent under it are GPC events (left out of partner sharing).
func TestBrowserJSOnlyGPCIsRecorded(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})
	withGPC(t, ctx)
	acceptAll(t, ctx, e, origin+"/shop")
	if r := e.asked(func(r request) bool { return r.GPC }); len(r) > 0 {
		t.Fatalf("%d requests with Sec-GPC; this test is about the JS signal alone", len(r))
	}
	recs, err := e.st.ConsentRecords(context.Background(), e.site.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d consent records, want 1", len(recs))
	}
	if r := recs[0]; r.Action != "gpc_auto" || !r.GPC || r.Granted&4 != 0 {
		t.Errorf("ledger: action %q, gpc %v, granted %03b; want gpc_auto, gpc, no marketing", r.Action, r.GPC, r.Granted)
	}
	click(t, ctx, chromedp.CSS(`#buy`))
	e.waitBeacons("click", 1)
	rows := e.events()
	if len(rows) != 2 {
		t.Fatalf("%d events stored, want 2", len(rows))
	}
	for _, ev := range rows {
		if !ev.GPC || ev.Consent&4 != 0 {
			t.Errorf("%s: GPC %v, consent %03b; want a GPC event without marketing", ev.Type, ev.GPC, ev.Consent)
		}
	}
}

func TestBrowserAsksAgainAfterPolicyBumpOrExpiry(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})
	// The policy is cached for five minutes; a browser that must notice the
	// bump now does not use its cache.
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}

	acceptAll(t, ctx, e, origin+"/shop")
	open(t, ctx, origin+"/shop/again", "")
	e.waitBeacons("pageview", 2)
	if eval[bool](t, ctx, bannerOpen) {
		t.Fatal("the banner asks again under the same policy")
	}

	e.setPolicy(2)
	open(t, ctx, origin+"/shop/after-bump", "")
	waitBanner(t, ctx)
	if n := e.beacons("pageview"); n != 2 {
		t.Errorf("%d page views after the bump before a new decision, want none", n-2)
	}
	click(t, ctx, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", 3)
	if v := eval[int](t, ctx, `(b => b.charCodeAt(25))(atob(document.cookie.match(/footfall_consent=([^;]+)/)[1].split('.')[2].replace(/-/g,'+').replace(/_/g,'/')))`); v != 2 {
		t.Errorf("new token under policy version %d, want 2", v)
	}

	// An expired token asks again too.
	expired := e.signExpired()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: "footfall_consent", Value: expired, URL: origin}); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, origin+"/shop/expired", "")
	waitBanner(t, ctx)
	if n := e.beacons("pageview"); n != 3 {
		t.Errorf("%d page views with an expired token, want none", n-3)
	}
}

// focused names the banner's focused element: its data-a or data-c, or
// "box" for the dialog itself.
func focused(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, `(a => !a ? 'none' : a.dataset.a || a.dataset.c || (a.classList.contains('box') ? 'box' : a.tagName))(document.querySelector('#footfall-banner')?.shadowRoot.activeElement)`)
}

func key(t *testing.T, ctx context.Context, k string, mods ...kb.Modifier) {
	t.Helper()
	var opts []chromedp.KeyOption
	if len(mods) > 0 {
		opts = append(opts, chromedp.KeyModifiers(mods...))
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(k, opts...)); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserBannerByKeyboard(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})
	open(t, ctx, origin+"/shop", "")
	waitBanner(t, ctx)

	steps := []struct {
		key   string
		mods  []kb.Modifier
		focus string // what has the focus afterwards
	}{
		{"", nil, "box"}, // the dialog takes the focus: no button is preselected
		{kb.Tab, nil, "reject"},
		{kb.Tab, nil, "accept"},
		{kb.Tab, nil, "choose"},
		{kb.Tab, nil, "reject"}, // the focus stays in the dialog
		{kb.Tab, []kb.Modifier{kb.ModifierShift}, "choose"},
		{kb.Enter, nil, "box"}, // the second layer
		{kb.Tab, nil, "back"},
		{kb.Tab, nil, "analytics"},
		{kb.Enter, nil, "analytics"},
		{kb.Escape, nil, "box"}, // back to the first layer, no decision
		{kb.Escape, nil, "none"},
	}
	for i, s := range steps {
		if s.key != "" {
			key(t, ctx, s.key, s.mods...)
		}
		if got := focused(t, ctx); got != s.focus {
			t.Fatalf("step %d (%q): focus on %s, want %s", i, s.key, got, s.focus)
		}
		if i == 6 && !eval[bool](t, ctx, `document.querySelector('#footfall-banner').shadowRoot.querySelector('.box').classList.contains('l2')`) {
			t.Fatal("Enter on Choose did not open the second layer")
		}
	}
	if eval[bool](t, ctx, bannerOpen) || eval[bool](t, ctx, `document.cookie.includes('footfall_consent')`) {
		t.Fatal("Escape left the banner open or recorded a decision")
	}
	if n := len(e.asked(func(r request) bool { return r.Path == "/api/consent" })); n != 0 {
		t.Fatalf("Escape posted %d decisions, want none", n)
	}

	// The re-open link, by keyboard, opens the choices; analytics only.
	eval[any](t, ctx, `document.getElementById('settings').focus(); 1`)
	key(t, ctx, kb.Enter)
	waitBanner(t, ctx)
	for i, s := range []struct{ key, focus string }{
		{kb.Tab, "back"}, {kb.Tab, "analytics"}, {kb.Enter, "analytics"}, {kb.Tab, "personalization"}, {kb.Tab, "marketing"},
		{kb.Tab, "reject"}, {kb.Tab, "accept"}, {kb.Tab, "save"},
	} {
		key(t, ctx, s.key)
		if got := focused(t, ctx); got != s.focus {
			t.Fatalf("settings step %d: focus on %s, want %s", i, got, s.focus)
		}
	}
	key(t, ctx, kb.Enter)
	e.waitBeacons("pageview", 1)
	if cats := eval[int](t, ctx, `atob(document.cookie.match(/footfall_consent=([^;]+)/)[1].split('.')[2].replace(/-/g,'+').replace(/_/g,'/')).charCodeAt(21)`); cats != 1 {
		t.Errorf("categories %03b after saving analytics only, want 001", cats)
	}
	if got := eval[string](t, ctx, `document.activeElement.id`); got != "settings" {
		t.Errorf("focus after the banner closed on %q, want back on the settings link", got)
	}
}

// acceptAll opens url, presses Accept all and waits for the page view.
func acceptAll(t *testing.T, ctx context.Context, e *env, url string) {
	t.Helper()
	n := e.beacons("pageview")
	open(t, ctx, url, "")
	waitBanner(t, ctx)
	click(t, ctx, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", n+1)
}

// artifacts is where screenshots go: $FOOTFALL_ARTIFACTS, else a
// temporary folder.
func artifacts(t *testing.T) string {
	dir := os.Getenv("FOOTFALL_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// withGPC makes the tab's pages see navigator.globalPrivacyControl.
func withGPC(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`,
	}); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserBannerLanguages(t *testing.T) {
	dir := artifacts(t)
	ctx := newBrowser(t)
	e := newEnv(t)
	titles := map[string]string{"en": "Your privacy", "de": "Ihre Privatsphäre", "fr": "Votre vie privée"}
	for _, lang := range []string{"en", "de", "fr"} {
		origin := pages(t, e, pageOpts{Lang: lang})
		open(t, ctx, origin+"/shop", "")
		waitBanner(t, ctx)
		if got := eval[string](t, ctx, `document.querySelector('#footfall-banner').shadowRoot.querySelector('h2').textContent`); got != titles[lang] {
			t.Errorf("%s: title %q, want %q", lang, got, titles[lang])
		}
		png := run(t, ctx, chromedp.CaptureScreenshot())
		file := filepath.Join(dir, "banner-"+lang+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", file)
		if lang == "en" {
			click(t, ctx, inBanner("[data-a=choose]"))
			png := run(t, ctx, chromedp.CaptureScreenshot())
			if err := os.WriteFile(filepath.Join(dir, "banner-en-choices.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The page's language can be overridden on the tag; the decision
	// records the language shown and its text's hash.
	origin := pages(t, e, pageOpts{Lang: "en", Attrs: `data-lang="de"`})
	open(t, ctx, origin+"/shop", "")
	waitBanner(t, ctx)
	if got := eval[string](t, ctx, `document.querySelector('#footfall-banner').shadowRoot.querySelector('h2').textContent`); got != titles["de"] {
		t.Errorf("data-lang=de: title %q", got)
	}
	click(t, ctx, inBanner("[data-a=reject]"))
	waitFor(t, "the decision", func() bool { return len(e.asked(func(r request) bool { return r.Path == "/api/consent" })) == 1 })
	e.checkLastDecision("de")
}

func TestBrowserConsentAPIAndPlatforms(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	tests := []struct {
		name   string
		opts   pageOpts
		decide string // JS run after load; "" decides in <head>
		signal store.ConsentSignal
	}{
		{"JS API", pageOpts{Attrs: `data-banner="off"`}, `footfall('consent', {analytics: true})`, store.SignalPageScript},
		{"Google Consent Mode", pageOpts{Attrs: `data-banner="off"`, Head: `<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}gtag('consent','default',{analytics_storage:'denied'})</script>`},
			`gtag('consent', 'update', {analytics_storage: 'granted'})`, store.SignalGoogleConsentMode},
		{"IAB TCF", pageOpts{Attrs: `data-banner="off"`, Head: `<script>window.__tcfapi=function(cmd,v,cb){if(cmd=='addEventListener')setTimeout(function(){cb({gdprApplies:true,eventStatus:'useractioncomplete',purpose:{consents:{1:true,8:true,9:true}}},true)},50)}</script>`}, "", store.SignalTCF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
			defer cancel()
			before, records := e.beacons("pageview"), len(e.signals())
			origin := pages(t, e, tt.opts)
			open(t, tab, origin+"/shop", "")
			if tt.decide != "" {
				time.Sleep(300 * time.Millisecond) // time to show a banner, if it would
				if eval[bool](t, tab, bannerOpen) {
					t.Fatal(`the banner shows with data-banner="off"`)
				}
				if n := e.beacons(""); n != before {
					t.Fatalf("%d beacons before a decision", n-before)
				}
				eval[any](t, tab, tt.decide+"; 1")
			}
			e.waitBeacons("pageview", before+1)
			eval[any](t, tab, `footfall('consent', 'withdraw'); 1`)
			run(t, tab, chromedp.Poll[bool](`document.cookie.includes('footfall_consent=r..')`))
			eval[any](t, tab, `history.pushState({}, '', '/shop/after'); 1`)
			time.Sleep(100 * time.Millisecond)
			if n := e.beacons("pageview"); n != before+1 {
				t.Errorf("%d page views after the withdrawal", n-before-1)
			}
			// The ledger names what decided: the platform, then the page's
			// own withdrawal.
			e.checkSignals(records, tt.signal, store.SignalPageScript)
		})
	}
}

func TestBrowserHashRoutingAndExclusions(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	decide := func(tab context.Context, origin string) {
		t.Helper()
		open(t, tab, origin+"/shop", "")
		eval[any](t, tab, `footfall('consent', {analytics: true}); 1`)
		e.waitBeacons("pageview", e.beacons("pageview")+1)
	}

	// Without hash routing a new fragment is the same page.
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off"`})
	decide(ctx, origin)
	// The same decision again is no new decision.
	eval[any](t, ctx, `footfall('consent', {analytics: true}); location.hash = '#/cart'; 1`)
	time.Sleep(200 * time.Millisecond)
	if n := e.beacons("pageview"); n != 1 {
		t.Errorf("%d page views after a fragment change without hash routing, want 1", n)
	}
	if n := len(e.asked(func(r request) bool { return r.Path == "/api/consent" })); n != 1 {
		t.Errorf("%d decisions posted for the same choice twice, want 1", n)
	}

	// With hash routing it is a new page; an excluded path sends nothing.
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	origin = pages(t, e, pageOpts{Attrs: `data-banner="off" data-hash-routing`})
	decide(tab, origin)
	eval[any](t, tab, `location.hash = '#/cart'; 1`)
	e.waitBeacons("pageview", 3)
	eval[any](t, tab, `history.pushState({}, '', '/private/orders'); footfall('event', 'secret'); 1`)
	click(t, tab, chromedp.CSS(`#buy`))
	eval[any](t, tab, `history.pushState({}, '', '/shop/ok'); 1`)
	e.waitBeacons("pageview", 4)
	for _, r := range e.asked(func(r request) bool { return r.Path == "/api/event" }) {
		if r.Type != "pageview" {
			t.Errorf("a %s beacon from an excluded page", r.Type)
		}
	}
	for _, ev := range e.events() {
		if strings.HasPrefix(ev.Path, "/private") {
			t.Errorf("stored %s on the excluded %s", ev.Type, ev.Path)
		}
	}
}

func TestBrowserTransportFallbacks(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off"`})
	tests := []struct {
		name  string
		block string // run before the page's scripts
		path  string // where the beacons arrive
	}{
		{"sendBeacon refuses: fetch", `navigator.sendBeacon = () => false`, "/api/event"},
		{"fetch fails too: the pixel", `navigator.sendBeacon = () => false; const f = fetch; window.fetch = (u, o) => String(u).includes('/api/event') ? Promise.reject(new TypeError('blocked')) : f(u, o)`, "/p.gif"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
			defer cancel()
			if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: tt.block}); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range e.events() {
				seen[ev.ID.String()] = true
			}
			arrived := func() int { return len(e.asked(func(r request) bool { return r.Path == tt.path })) }
			before := arrived()
			open(t, tab, origin+"/shop/"+strings.Fields(tt.name)[0], "")
			eval[any](t, tab, `footfall('consent', {analytics: true}); footfall('event', 'signup', {plan: 'pro'}); 1`)
			waitFor(t, "two beacons at "+tt.path, func() bool { return arrived() >= before+2 })
			var got []string
			for _, ev := range e.events() {
				if !seen[ev.ID.String()] {
					got = append(got, string(ev.Type)+" "+ev.Name)
				}
			}
			slices.Sort(got)
			if want := []string{"event signup", "pageview "}; !slices.Equal(got, want) {
				t.Errorf("stored %q, want %q", got, want)
			}
		})
	}
}
