package web_test

// Browser tests of what the tracker counts at the edges (back/forward
// cache, other tabs, middle clicks, download links, a not-found page), of the console
// warning when the policy cannot be read, and of the banner on a phone.

import (
	"context"
	"encoding/json"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/store"
)

// consoleWarnings collects the page's console.warn messages that start
// with "Footfall:".
func consoleWarnings(t *testing.T, ctx context.Context) func() []string {
	var mu sync.Mutex
	var got []string
	err := chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*runtime.EventConsoleAPICalled)
		if !ok || e.Type != runtime.ConsoleAPICalledTypeWarning || len(e.Args) == 0 {
			return
		}
		var msg string
		if json.Unmarshal(e.Args[0].Value, &msg) == nil && strings.HasPrefix(msg, "Footfall:") {
			mu.Lock()
			got = append(got, msg)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func TestBrowserWarnsWhenThePolicyCannotBeRead(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	tests := []struct {
		name string
		opts pageOpts
		want string // in the warning
	}{
		{"wrong data-site", pageOpts{Site: "typo.test"}, `data-site`},
		// The page lets the tracker load from the collector but not talk
		// to it, a common CSP mistake.
		{"CSP without the collector in connect-src", pageOpts{CSP: "default-src 'self'; script-src 'unsafe-inline' " + e.URL + "; style-src 'unsafe-inline'; connect-src 'self'"}, "connect-src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
			defer cancel()
			warnings := consoleWarnings(t, tab)
			origin := pages(t, e, tt.opts)
			open(t, tab, origin+"/shop", "")
			waitFor(t, "a console warning", func() bool { return len(warnings()) > 0 })
			time.Sleep(300 * time.Millisecond) // time for a second warning, if there were one
			got := warnings()
			if len(got) != 1 || !strings.Contains(got[0], tt.want) || !strings.Contains(got[0], e.URL) {
				t.Errorf("warnings %q; want one naming %s and %q", got, e.URL, tt.want)
			}
			if eval[bool](t, tab, bannerOpen) {
				t.Error("a banner without a policy")
			}
		})
	}
	// A working page warns about nothing.
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	warnings := consoleWarnings(t, tab)
	open(t, tab, pages(t, e, pageOpts{})+"/shop", "")
	waitBanner(t, tab)
	if got := warnings(); len(got) > 0 {
		t.Errorf("warnings on a working page: %q", got)
	}
}

func TestBrowserCountsAPageRestoredFromTheBackForwardCache(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off"`, Body: `<script>addEventListener('pageshow', e => { if (e.persisted) window.restored = (window.restored || 0) + 1 })</script>`})
	open(t, ctx, origin+"/shop", "")
	eval[any](t, ctx, `footfall('consent', {analytics: true}); 1`)
	e.waitBeacons("pageview", 1)
	open(t, ctx, origin+"/shop/next", "")
	e.waitBeacons("pageview", 2)
	// history.back, not a navigation that waits for a load event: a
	// restored page fires none.
	eval[any](t, ctx, `history.back(); 1`)
	restored := func() bool {
		// The page's context changes under the call while it goes back.
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.pathname == '/shop' && window.restored == 1`))
		return err == nil && ok
	}
	waitFor(t, "the page back", func() bool {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`location.pathname == '/shop' && document.readyState == 'complete'`))
		return err == nil && ok
	})
	if !restored() {
		t.Fatal("the page was loaded again, not restored from the back/forward cache: the test proves nothing")
	}
	e.waitBeacons("pageview", 3)
	var paths []string
	for _, ev := range e.events() {
		if ev.Type == "pageview" {
			paths = append(paths, ev.Path)
		}
	}
	slices.Sort(paths)
	if strings.Join(paths, " ") != "/shop /shop /shop/next" {
		t.Errorf("page views %q, want /shop twice (the restore is one) and /shop/next", paths)
	}
}

func TestBrowserWithdrawalInOneTabStopsTheOthers(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{})
	acceptAll(t, ctx, e, origin+"/shop")

	// A second tab of the same browser, open before the withdrawal.
	other, cancel := chromedp.NewContext(ctx)
	defer cancel()
	open(t, other, origin+"/shop/other", "")
	e.waitBeacons("pageview", 2)

	eval[any](t, ctx, `footfall('consent', 'withdraw'); 1`)
	run(t, ctx, chromedp.Poll[bool](`document.cookie.includes('footfall_consent=r..')`))
	sent := e.beacons("")
	eval[any](t, other, `history.pushState({}, '', '/shop/more'); footfall('event', 'late'); 1`)
	click(t, other, chromedp.CSS(`#buy`))
	eval[any](t, other, `document.dispatchEvent(new Event('visibilitychange')); 1`)
	time.Sleep(300 * time.Millisecond) // time for beacons to arrive, if any were sent
	if got := e.asked(func(r request) bool { return r.Path == "/api/event" || r.Path == "/p.gif" }); len(got) != sent {
		t.Errorf("the other tab sent %d beacons after the withdrawal: %+v", len(got)-sent, got[sent:])
	}
	if keys := storageKeys(t, other); len(keys) > 0 {
		t.Errorf("the other tab keeps %v after the withdrawal", keys)
	}
}

func TestBrowserDownloadsAndMiddleClicks(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	// The links go nowhere when clicked, with any button.
	body := `<p><a id="zip" href="/files/shoes.zip" onclick="return false" onauxclick="return false">Shoes (zip)</a>
<a id="farpdf" href="http://127.0.0.2:9/catalog.pdf" onclick="return false" onauxclick="return false">Catalogue (PDF, another host)</a>
<a id="far" href="http://127.0.0.2:9/about" onclick="return false" onauxclick="return false">About us (another host)</a></p>`
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off" data-download-ext="pdf, zip"`, Body: template.HTML(body)})
	open(t, ctx, origin+"/shop", "")
	eval[any](t, ctx, `footfall('consent', {analytics: true}); 1`)
	e.waitBeacons("pageview", 1)

	mouse := func(sel string, button chromedp.MouseOption) {
		t.Helper()
		nodes := run(t, ctx, chromedp.Nodes(chromedp.CSS(sel)))
		if len(nodes) != 1 {
			t.Fatalf("%d nodes %s", len(nodes), sel)
		}
		if err := chromedp.Do(ctx, chromedp.MouseClickNode(nodes[0], button)); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	mouse("#zip", chromedp.ButtonLeft)
	mouse("#farpdf", chromedp.ButtonLeft)
	mouse("#far", chromedp.ButtonMiddle) // opened in a new tab
	mouse("#buy", chromedp.ButtonRight)  // a context menu: no click
	e.waitBeacons("click", 3)
	time.Sleep(200 * time.Millisecond) // time for a fourth, if there were one

	type click struct{ Name, Target string }
	var got []click
	for _, ev := range e.events() {
		if ev.Type == "click" {
			got = append(got, click{ev.Name, ev.Target[strings.LastIndex(ev.Target, "/"):]})
		}
	}
	slices.SortFunc(got, func(a, b click) int { return strings.Compare(a.Name+a.Target, b.Name+b.Target) })
	want := []click{{"download", "/catalog.pdf"}, {"download", "/shoes.zip"}, {"outbound", "/about"}}
	if !slices.Equal(got, want) {
		t.Errorf("clicks %+v, want %+v", got, want)
	}
}

// box is an element's bounding box in CSS pixels.
type box struct{ Left, Top, Right, Bottom float64 }

func TestBrowserBannerOnAPhone(t *testing.T) {
	dir := artifacts(t)
	ctx := newBrowser(t)
	e := newEnv(t)
	const width, height = 360, 640
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"en", "de", "fr"} {
		t.Run(lang, func(t *testing.T) {
			origin := pages(t, e, pageOpts{Lang: lang})
			open(t, ctx, origin+"/shop", "")
			waitBanner(t, ctx)
			click(t, ctx, inBanner("[data-a=choose]"))
			png := run(t, ctx, chromedp.CaptureScreenshot())
			file := filepath.Join(dir, "banner-"+lang+"-choices-360.png")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s", file)

			boxes := eval[map[string]box](t, ctx, `(() => {
				const r = document.querySelector('#footfall-banner').shadowRoot
				const out = {}
				for (const a of ['back', 'reject', 'accept', 'save']) {
					const b = r.querySelector('[data-a=' + a + ']').getBoundingClientRect()
					out[a] = {Left: b.left, Top: b.top, Right: b.right, Bottom: b.bottom}
				}
				const d = r.querySelector('.box')
				out.scroll = {Left: 0, Top: 0, Right: d.clientHeight, Bottom: d.scrollHeight}
				return out
			})()`)
			t.Logf("%s: boxes %+v", lang, boxes)
			if s := boxes["scroll"]; s.Bottom <= s.Right {
				t.Logf("%s: the second layer fits without scrolling (%v of %v px)", lang, s.Bottom, s.Right)
			}
			for _, a := range []string{"back", "reject", "accept", "save"} {
				b := boxes[a]
				if b.Left < 0 || b.Top < 0 || b.Right > width || b.Bottom > height || b.Right-b.Left < 24 || b.Bottom-b.Top < 24 {
					t.Errorf("%s: %s button at %+v, want it whole within the %dx%d viewport", lang, a, b, width, height)
				}
			}
			// Scrolled to the top and to the bottom, the actions stay in view.
			for _, top := range []string{"0", "1e6"} {
				bottom := eval[float64](t, ctx, `(r => { r.querySelector('.box').scrollTop = `+top+`; return r.querySelector('[data-a=save]').getBoundingClientRect().bottom })(document.querySelector('#footfall-banner').shadowRoot)`)
				if bottom > height {
					t.Errorf("%s: scrolled to %s, Save ends at %v px, below the viewport", lang, top, bottom)
				}
			}
			// Back, by touch or mouse, returns to the first layer without a decision.
			click(t, ctx, inBanner("[data-a=back]"))
			if eval[bool](t, ctx, `document.querySelector('#footfall-banner').shadowRoot.querySelector('.box').classList.contains('l2')`) {
				t.Error("Back left the second layer open")
			}
			if !eval[bool](t, ctx, bannerOpen) || eval[bool](t, ctx, `document.cookie.includes('footfall_consent')`) {
				t.Error("Back closed the banner or decided")
			}
			click(t, ctx, inBanner("[data-a=choose]"))
			click(t, ctx, inBanner("[data-a=save]"))
			run(t, ctx, chromedp.Poll[bool](`document.cookie.includes('footfall_consent=')`))
			eval[any](t, ctx, `document.cookie = 'footfall_consent=; max-age=0; path=/'; 1`)
		})
	}
	// Opened from the settings link, Back closes the banner.
	origin := pages(t, e, pageOpts{})
	open(t, ctx, origin+"/shop", "")
	waitBanner(t, ctx)
	click(t, ctx, inBanner("[data-a=reject]"))
	run(t, ctx, chromedp.Poll[bool](`!document.querySelector('#footfall-banner')?.isConnected && document.cookie.includes('footfall_consent=')`))
	click(t, ctx, chromedp.CSS(`#settings`))
	waitBanner(t, ctx)
	click(t, ctx, inBanner("[data-a=back]"))
	run(t, ctx, chromedp.Poll[bool](`!document.querySelector('#footfall-banner')?.isConnected`))
}

// With google_consent_mode the banner speaks for the page to Google's tags
// (#21): on each page a default with everything denied, then an update with
// the visitor's decision, through the page's gtag; a withdrawal denies
// everything again. Footfall does not take its own signals for another
// platform's decision: one decision is posted.
func TestBrowserEmitsGoogleConsentMode(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	e.google = true
	e.setPolicy(1)
	origin := pages(t, e, pageOpts{Head: `<script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}</script>`})
	const signals = `JSON.stringify(dataLayer.filter((e) => e[0] == 'consent').map((e) => [e[1], e[2].analytics_storage, e[2].personalization_storage, e[2].ad_storage, e[2].ad_user_data]))`
	wait := func(tab context.Context, want string) {
		t.Helper()
		var got string
		waitFor(t, "signals "+want, func() bool { got = eval[string](t, tab, signals); return got == want })
	}
	const denied = `["default","denied","denied","denied","denied"]`
	open(t, ctx, origin+"/shop", "")
	waitBanner(t, ctx)
	wait(ctx, "["+denied+"]")
	click(t, ctx, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", 1)
	wait(ctx, "["+denied+`,["update","granted","granted","granted","granted"]]`)
	if n := len(e.asked(func(r request) bool { return r.Path == "/api/consent" })); n != 1 {
		t.Errorf("%d decisions posted, want 1 (its own signal taken for another decision?)", n)
	}
	// The next page: the decision from the cookie, with no banner.
	open(t, ctx, origin+"/shop/cart", "")
	wait(ctx, "["+denied+`,["update","granted","granted","granted","granted"]]`)
	if eval[bool](t, ctx, bannerOpen) {
		t.Error("the banner shows again after a decision")
	}
	eval[any](t, ctx, `footfall('consent', 'withdraw'); 1`)
	wait(ctx, "["+denied+`,["update","granted","granted","granted","granted"],["update","denied","denied","denied","denied"]]`)

	// Off (the default): nothing is pushed.
	e.google = false
	e.setPolicy(1)
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	open(t, tab, origin+"/shop", "")
	waitBanner(t, tab)
	click(t, tab, inBanner("[data-a=accept]"))
	e.waitBeacons("pageview", 3)
	if got := eval[string](t, tab, signals); got != "[]" {
		t.Errorf("signals with google_consent_mode off: %s", got)
	}
}

// TestBrowserNotFoundPage: a site's not-found page calls
// footfall('event', '404') after the snippet (docs/reports.md, "Pages not
// found"); the real tracker sends it as a custom event of the missing
// path, and the reports list that path as a broken URL with the linking
// site as its referrer.
func TestBrowserNotFoundPage(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	// Every page of the test site is served; /old-page plays the missing one.
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off"`,
		Body: `<script>if (location.pathname === '/old-page') footfall('event', '404')</script>`})
	// A visitor who consented earlier follows a stale link from a blog.
	open(t, ctx, origin+"/shop", "")
	eval[any](t, ctx, `footfall('consent', {analytics: true}); 1`)
	e.waitBeacons("pageview", 1)
	// Later, in a new tab (a new tab session: a new visit).
	eval[any](t, ctx, `sessionStorage.clear(); 1`)
	open(t, ctx, origin+"/old-page", "https://blog.example/a-post-with-a-stale-link")
	e.waitBeacons("pageview", 2)

	var notFound []store.Event
	waitFor(t, "the 404 event stored", func() bool {
		notFound = notFound[:0]
		for _, ev := range e.events() {
			if ev.Name == "404" {
				notFound = append(notFound, ev)
			}
		}
		return len(notFound) > 0
	})
	time.Sleep(200 * time.Millisecond) // time for a second, if there were one
	if notFound = slices.DeleteFunc(e.events(), func(ev store.Event) bool { return ev.Name != "404" }); len(notFound) != 1 || notFound[0].Path != "/old-page" || notFound[0].Type != store.Custom {
		t.Fatalf("the 404 events %+v, want one custom event of /old-page", notFound)
	}

	ctx2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	day := notFound[0].Time.UTC().Truncate(24 * time.Hour)
	q := func(dim string, filter store.Filter) []store.RollupRow {
		t.Helper()
		rows, err := e.st.FilteredBreakdown(ctx2, store.FilteredBreakdownQuery{SiteID: e.site.ID, Dimension: dim,
			Filters: []store.Filter{filter}, From: day, To: day.Add(24 * time.Hour)})
		if err != nil {
			t.Fatalf("%s under %v: %v", dim, filter, err)
		}
		return rows
	}
	broken := q(store.DimNotFound, store.Filter{Dim: store.DimNotFound, Op: "~", Value: ""})
	if len(broken) != 1 || broken[0].Value != "/old-page" || broken[0].Visitors != 1 || broken[0].Events != 1 {
		t.Errorf("broken URLs %+v, want /old-page once", broken)
	}
	referrers := q(store.DimReferrerHost, store.Filter{Dim: store.DimNotFound, Op: "==", Value: "/old-page"})
	if len(referrers) != 1 || referrers[0].Value != "blog.example" {
		t.Errorf("referrers of /old-page %+v, want blog.example", referrers)
	}
}

// TestBrowserScrollDepth: the real tracker reports each page view's
// deepest scroll with its engagement beacon, no request of its own: a
// visitor scrolls down a long page and back up, then follows a link within
// the single-page app (the first page view's engagement, at its deepest,
// not where it ends), reads the next page without scrolling and leaves it
// (the part the screen showed). The reports' scroll rows hold both.
func TestBrowserScrollDepth(t *testing.T) {
	ctx, e, _ := longArticle(t)
	notEvents := func(r request) bool { return r.Path != "/api/event" }
	others := len(e.asked(notEvents))

	// The bottom of the viewport at its deepest, in % of the page's height.
	deepest := eval[float64](t, ctx, `scrollTo(0, 1500); Math.floor((scrollY + innerHeight) * 100 / document.body.scrollHeight)`)
	waitFor(t, "the page scrolled", func() bool { return eval[float64](t, ctx, `scrollY`) == 1500 })
	eval[any](t, ctx, `new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(1))))`) // the scroll event
	eval[any](t, ctx, `scrollTo(0, 200); 1`)
	time.Sleep(1100 * time.Millisecond) // engaged for more than the beacon's second
	eval[any](t, ctx, `history.pushState({}, '', '/article/comments'); 1`)
	e.waitBeacons("engagement", 1)

	// The next page view starts from nothing: the part shown unscrolled.
	eval[any](t, ctx, `scrollTo(0, 0); 1`)
	shown := eval[float64](t, ctx, `Math.floor(innerHeight * 100 / document.body.scrollHeight)`)
	time.Sleep(1100 * time.Millisecond)
	click(t, ctx, chromedp.CSS(`#out`)) // leaving: the page hides
	e.waitBeacons("engagement", 2)
	if deepest <= shown || shown <= 0 {
		t.Fatalf("deepest %v %%, shown unscrolled %v %%: the page is not long enough to tell them apart", deepest, shown)
	}

	// Only events went out: no request of the tracker's own for scrolling.
	if got := e.asked(notEvents); len(got) != others {
		t.Errorf("requests other than events after the first page view: %v", got[others:])
	}
	depth := map[string]uint8{}
	waitFor(t, "both engagement events stored", func() bool {
		for _, ev := range e.events() {
			if ev.Type == store.Engagement {
				depth[ev.Path] = ev.ScrollDepth
			}
		}
		return len(depth) == 2
	})
	want := map[string]uint8{"/article": uint8(deepest), "/article/comments": uint8(shown)}
	if !maps.Equal(depth, want) {
		t.Errorf("stored scroll depths %v, want %v", depth, want)
	}

	ctx2, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var day time.Time
	for _, ev := range e.events() {
		day = ev.Time.UTC().Truncate(24 * time.Hour)
	}
	rows, err := e.st.FilteredBreakdown(ctx2, store.FilteredBreakdownQuery{SiteID: e.site.ID, Dimension: store.DimScrollDepth,
		Filters: []store.Filter{{Dim: store.DimScrollDepth, Op: "~", Value: ""}}, From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint8{}
	for _, r := range rows {
		if r.Events != 1 {
			t.Errorf("%s: %d page views with a depth, want 1", r.Value, r.Events)
		}
		got[r.Value] = uint8(r.EngagedMS)
	}
	if !maps.Equal(got, want) {
		t.Errorf("scroll rows %v, want %v", got, want)
	}
}

// longArticle opens a page four screens long, /article, for a visitor who
// consents to analytics, once its page view is in.
func longArticle(t *testing.T) (context.Context, *env, string) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := pages(t, e, pageOpts{Attrs: `data-banner="off"`, Body: `<div style="height: 4000px">A long article.</div>`})
	open(t, ctx, origin+"/article", "")
	eval[any](t, ctx, `footfall('consent', {analytics: true}); 1`)
	e.waitBeacons("pageview", 1)
	return ctx, e, origin
}

// TestBrowserScrollDepthAfterAReload: a reload is no new page view, and
// the page view's scroll depth still counts from the reloaded page.
func TestBrowserScrollDepthAfterAReload(t *testing.T) {
	ctx, e, origin := longArticle(t)
	open(t, ctx, origin+"/article", "") // the reload
	deepest := eval[float64](t, ctx, `scrollTo(0, 1000); Math.floor((scrollY + innerHeight) * 100 / document.body.scrollHeight)`)
	waitFor(t, "the page scrolled", func() bool { return eval[float64](t, ctx, `scrollY`) == 1000 })
	eval[any](t, ctx, `new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(1))))`) // the scroll event
	eval[any](t, ctx, `scrollTo(0, 0); 1`)
	time.Sleep(1100 * time.Millisecond) // engaged for more than the beacon's second
	click(t, ctx, chromedp.CSS(`#out`))
	e.waitBeacons("engagement", 1)
	if n := e.beacons("pageview"); n != 1 {
		t.Errorf("%d page views, want 1: a reload is none", n)
	}
	var got []uint8
	waitFor(t, "the engagement stored", func() bool {
		got = got[:0]
		for _, ev := range e.events() {
			if ev.Type == store.Engagement {
				got = append(got, ev.ScrollDepth)
			}
		}
		return len(got) > 0
	})
	if len(got) != 1 || got[0] != uint8(deepest) || deepest == 0 {
		t.Errorf("scroll depths %v, want [%v]", got, deepest)
	}
}
