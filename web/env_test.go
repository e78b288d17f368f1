package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// testSite is the site every test page reports to.
const testSite = "shop.test"

// uaMarker is in the browser's user agent and on the enricher's allow-list,
// so headless Chromium's events are not flagged as bots.
const uaMarker = "FootfallBrowserTest"

// env is the product built the way footfall serve builds it (server/app), on a fresh
// SQLite store, behind a handler that records every request it is asked.
type env struct {
	t    *testing.T
	st   *sqlite.Store
	site store.Site
	URL  string // the collector's origin, http://127.0.0.1:port

	exempt bool // the site counts visitors without a decision (set before setPolicy)
	google bool // the banner emits Google Consent Mode v2 (set before setPolicy)
	app    atomic.Pointer[app.App]

	mu       sync.Mutex
	requests []request
}

// request is what the collector was asked.
type request struct {
	Method, Path string
	Type         string // the event type of a POST /api/event body
	Action       string // the action of a POST /api/consent body
	Lang         string // the lang of a POST /api/event body
	GPC          bool   // Sec-GPC: 1
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	site, err := st.AddSite(ctx, testSite)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, site: site}
	srv := httptest.NewServer(http.HandlerFunc(e.serve))
	e.URL = srv.URL
	e.setPolicy(1)
	t.Cleanup(func() {
		srv.Close()
		if err := e.product().Stop(time.Now().Add(5 * time.Second)); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return e
}

// setPolicy makes the collector serve the site's consent policy at version
// v: a restart with the changed config, as footfall serve builds it.
func (e *env) setPolicy(v uint32) {
	e.t.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, "sites:\n  - domain: %s\n    exempt: %v\n    consent:\n      policy_version: %d\n      google_consent_mode: %v\n",
		testSite, e.exempt, v, e.google))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := context.Background()
	product, err := app.New(ctx, app.Options{
		Store: e.st, Config: cfg, ConsentRefresh: 100 * time.Millisecond,
		Buffer: collector.BufferOptions{FlushInterval: 50 * time.Millisecond, DrainTimeout: 5 * time.Second},
		Enrich: enrich.Options{AllowUA: []string{uaMarker}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	product.Start(ctx)
	if old := e.app.Swap(product); old != nil {
		if err := old.Stop(time.Now().Add(5 * time.Second)); err != nil {
			e.t.Errorf("stop: %v", err)
		}
	}
}

// product is the running collector.
func (e *env) product() *app.App { return e.app.Load() }

func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	req := request{Method: r.Method, Path: r.URL.Path, GPC: r.Header.Get("Sec-GPC") == "1"}
	if r.Method == http.MethodPost && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var b struct{ Type, Action, Lang string }
		_ = json.Unmarshal(body, &b) // a malformed body is the collector's to answer
		req.Type, req.Action, req.Lang = b.Type, b.Action, b.Lang
	}
	e.mu.Lock()
	e.requests = append(e.requests, req)
	e.mu.Unlock()
	e.product().Handler.ServeHTTP(w, r)
}

// asked returns the requests so far that match.
func (e *env) asked(match func(request) bool) []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []request
	for _, r := range e.requests {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// beacons counts the POST /api/event requests of an event type ("" for any).
func (e *env) beacons(typ string) int {
	return len(e.asked(func(r request) bool { return r.Path == "/api/event" && (typ == "" || r.Type == typ) }))
}

// waitBeacons waits until n beacons of typ have arrived.
func (e *env) waitBeacons(typ string, n int) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("%d %q beacons", n, typ), func() bool { return e.beacons(typ) >= n })
}

// events writes out what the collector accepted and returns the stored rows.
func (e *env) events() []store.Event {
	e.t.Helper()
	ctx := context.Background()
	if err := e.product().Buffer.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
	rows, err := e.st.Events(ctx, store.EventQuery{SiteID: e.site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// postEvent posts a beacon as a script would and returns the status.
func (e *env) postEvent(body string) int {
	e.t.Helper()
	resp, err := http.Post(e.URL+"/api/event", "text/plain", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// grant records an accept-all decision and returns its token.
func (e *env) grant() string {
	e.t.Helper()
	resp, err := http.Post(e.URL+"/api/consent", "application/json",
		strings.NewReader(`{"site":"`+testSite+`","categories":{"analytics":true,"personalization":true,"marketing":true}}`))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("consent: status %d, %v", resp.StatusCode, err)
	}
	return out.Token
}

// signExpired returns a token, signed by the collector, that expired a day ago.
func (e *env) signExpired() string {
	e.t.Helper()
	now := time.Now().Truncate(time.Second)
	token, err := e.product().Consent.Keyring().Sign(consent.Claims{
		ConsentID: uuid.New(), SiteID: e.site.ID, Categories: store.ConsentAll, PolicyVersion: 2,
		Issued: now.Add(-30 * 24 * time.Hour), Expires: now.Add(-24 * time.Hour),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// checkLastDecision checks that the ledger's newest record names the
// language shown and the hash of that language's built-in banner text.
func (e *env) checkLastDecision(lang string) {
	e.t.Helper()
	recs, err := e.st.ConsentRecords(context.Background(), e.site.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	if len(recs) == 0 {
		e.t.Fatal("no consent record")
	}
	last := recs[len(recs)-1]
	if want := config.DefaultBanner()[lang].Hash(); last.Language != lang || last.BannerHash != want {
		e.t.Errorf("ledger records language %q, banner hash %.12s…; want %q, %.12s…", last.Language, last.BannerHash, lang, want)
	}
}

// signals returns what carried each of the ledger's records for the site,
// oldest first.
func (e *env) signals() []store.ConsentSignal {
	e.t.Helper()
	recs, err := e.st.ConsentRecords(context.Background(), e.site.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]store.ConsentSignal, len(recs))
	for i, r := range recs {
		out[i] = r.Signal
	}
	return out
}

// checkSignals checks that the ledger's records from the from-th on were
// carried by want, in order.
func (e *env) checkSignals(from int, want ...store.ConsentSignal) {
	e.t.Helper()
	var got []store.ConsentSignal
	waitFor(e.t, fmt.Sprintf("%d ledger records", from+len(want)), func() bool { got = e.signals(); return len(got) >= from+len(want) })
	if diff := cmp.Diff(want, got[from:]); diff != "" {
		e.t.Errorf("the ledger's signals (-want +got):\n%s", diff)
	}
}

// waitFor polls cond until it holds, for at most ten seconds: the browser
// sends beacons on its own schedule.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
