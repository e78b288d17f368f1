package share_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/web/browsertest"
)

// serve starts the env's router on a loopback port.
func (e *env) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// poll waits for a script expression to be true.
func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	run(t, ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second)))
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[string](`document.querySelector(`+"`"+sel+"`"+`).innerText`))
}

// TestBrowserShareLink: Chromium opens a share link and sees the anonymised
// release: the day's total and /popular with their counts, not /tiny,
// whose 3 visitors are under k.
func TestBrowserShareLink(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	_, page := e.create(t, `{"site": "shop.example", "name": "Board"}`)
	base := e.serve(t)
	ctx := browsertest.New(t)
	run(t, ctx, chromedp.Navigate(base+page))
	poll(t, ctx, `!!document.querySelector('#table-page')`)
	if got := text(t, ctx, "#site"); got != "shop.example" {
		t.Errorf("site %q", got)
	}
	pages := text(t, ctx, "#table-page")
	if !strings.Contains(pages, "/popular") || !strings.Contains(pages, fmt.Sprint(popularVisitors)) || strings.Contains(pages, "/tiny") || strings.Contains(pages, "Other") {
		t.Errorf("pages table %q: want /popular with %d visitors, no /tiny, no Other", pages, popularVisitors)
	}
	total := text(t, ctx, "#table-total")
	if !strings.Contains(total, "2026-03-10") || !strings.Contains(total, fmt.Sprint(popularVisitors+tinyVisitors)) {
		t.Errorf("total table %q: want 2026-03-10 with %d visitors", total, popularVisitors+tinyVisitors)
	}
	if note := text(t, ctx, "#note"); !strings.Contains(note, "at least 10 visitors") {
		t.Errorf("note %q", note)
	}
	if w := text(t, ctx, "#window"); w != "2026-03-09 – 2026-03-15" {
		t.Errorf("window %q", w)
	}
	// The month: February has no data, March is not over.
	run(t, ctx, chromedp.SetValue(`#period`, "month"))
	run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#period').dispatchEvent(new Event('change'))`))
	poll(t, ctx, `document.body.dataset.loaded == '2026-02-01'`)
	if got := text(t, ctx, "#tables"); !strings.Contains(got, "Nothing to show") {
		t.Errorf("February's tables %q: want nothing to show", got)
	}
}

// TestBrowserSharePassword: a link with a password shows the prompt, refuses
// a wrong password and shows the figures after the right one.
func TestBrowserSharePassword(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	const password = "violet tractor mumbles quietly"
	_, page := e.create(t, `{"site": "shop.example", "password": "`+password+`"}`)
	base := e.serve(t)
	ctx := browsertest.New(t)
	run(t, ctx, chromedp.Navigate(base+page))
	run(t, ctx, chromedp.WaitVisible(`#unlock`))
	if visible := run(t, ctx, chromedp.Evaluate[bool](`!document.querySelector('#report').hidden`)); visible {
		t.Errorf("the report shows before the password")
	}
	run(t, ctx, chromedp.SendKeys(`#password`, "violet tractor mumbles loudly"))
	run(t, ctx, chromedp.Click(`#unlock-submit`))
	poll(t, ctx, `document.querySelector('#unlock-error').textContent != ''`)
	if got := text(t, ctx, "#unlock-error"); got != "wrong password" {
		t.Errorf("after a wrong password: %q", got)
	}
	run(t, ctx, chromedp.Evaluate[bool](`(document.querySelector('#password').value = '') == ''`))
	run(t, ctx, chromedp.SendKeys(`#password`, password))
	run(t, ctx, chromedp.Click(`#unlock-submit`))
	poll(t, ctx, `!!document.querySelector('#table-page')`)
	if pages := text(t, ctx, "#table-page"); !strings.Contains(pages, "/popular") || strings.Contains(pages, "/tiny") {
		t.Errorf("pages table %q", pages)
	}
	if hidden := run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#unlock').hidden`)); !hidden {
		t.Errorf("the prompt still shows")
	}
}

// embedder serves a blog page that frames the URL in its src parameter and
// records the messages it gets (window.msgs) and the frame's load
// (window.loaded). It returns the blog's origin.
func embedder(t *testing.T) string {
	t.Helper()
	tmpl := template.Must(template.New("blog").Parse(`<!doctype html><title>blog</title>
<script>window.msgs = []; addEventListener('message', (e) => window.msgs.push({origin: e.origin, data: e.data}));</script>
<iframe id="f" src="{{.}}" width="800" height="600"></iframe>
<script>document.getElementById('f').addEventListener('load', () => { window.loaded = true; });</script>`))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := tmpl.Execute(w, r.URL.Query().Get("src")); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// childFrame returns the page's one child frame.
func childFrame(t *testing.T, ctx context.Context) *cdp.Frame {
	t.Helper()
	tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.FrameTree.ChildFrames) != 1 {
		t.Fatalf("%d child frames, want 1", len(tree.FrameTree.ChildFrames))
	}
	return tree.FrameTree.ChildFrames[0].Frame
}

// TestBrowserShareEmbed: an embed link shows its figures in an iframe of an
// origin it lists (which hears the page's message); Chromium refuses to
// frame it in another origin's page (CSP frame-ancestors), and refuses a
// link that is not for embedding anywhere (frame-ancestors 'none').
// Everything is on loopback; the origins differ by port.
func TestBrowserShareEmbed(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	base := e.serve(t)
	blog, elsewhere := embedder(t), embedder(t)
	_, embed := e.create(t, `{"site": "shop.example", "embed": true, "frame_ancestors": ["`+blog+`"]}`)
	_, plain := e.create(t, `{"site": "shop.example"}`)

	t.Run("allowed origin", func(t *testing.T) {
		ctx := browsertest.New(t)
		run(t, ctx, chromedp.Navigate(blog+"/?src="+url.QueryEscape(base+embed)))
		poll(t, ctx, `window.msgs.some((m) => m.data && m.data.type == 'footfall-share' && m.data.state == 'report')`)
		msg := run(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.msgs.find((m) => m.data.state == 'report'))`))
		if !strings.Contains(msg, `"origin":"`+base+`"`) || !strings.Contains(msg, `"height":`) {
			t.Errorf("message %s: want one from %s with the height", msg, base)
		}
		if f := childFrame(t, ctx); f.URL != base+embed || f.UnreachableURL != "" {
			t.Errorf("frame %q (unreachable %q): want the share page", f.URL, f.UnreachableURL)
		}
	})
	for _, tt := range []struct{ name, origin, link string }{
		{"other origin", elsewhere, embed},
		{"link not for embedding", blog, plain},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browsertest.New(t)
			run(t, ctx, chromedp.Navigate(tt.origin+"/?src="+url.QueryEscape(base+tt.link)))
			poll(t, ctx, `window.loaded === true`)
			f := childFrame(t, ctx)
			if f.URL == base+tt.link || f.UnreachableURL != base+tt.link {
				t.Errorf("frame %q (unreachable %q): want Chromium's error page for %s", f.URL, f.UnreachableURL, base+tt.link)
			}
			if msgs := run(t, ctx, chromedp.Evaluate[string](`JSON.stringify(window.msgs)`)); msgs != "[]" {
				t.Errorf("messages from a refused frame: %s", msgs)
			}
		})
	}
}
