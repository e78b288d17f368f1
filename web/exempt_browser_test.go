package web_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/store"
)

// On a consent-exempt site, a visitor who has made no decision is counted
// without any cookie or browser storage and without their IP stored; the
// opt-out link stops collection at once and for later pages.
func TestBrowserExemptCountsWithoutCookies(t *testing.T) {
	// The test page must be on the site's own domain (exempt counting is
	// first-party only): shop.test resolves to the local test server.
	ctx := newBrowser(t, chromedp.Flag("host-resolver-rules", "MAP shop.test 127.0.0.1"))
	e := newEnv(t)
	e.exempt = true
	e.setPolicy(1)
	origin := strings.Replace(pages(t, e, pageOpts{Attrs: `data-banner="off"`}), "localhost", testSite, 1)

	open(t, ctx, origin+"/shop", "https://search.example/?q=shoes")
	e.waitBeacons("pageview", 1)
	eval[any](t, ctx, `history.pushState({}, '', '/shop/cart'); footfall('event', 'signup', {plan: 'pro'}); 1`)
	e.waitBeacons("pageview", 2)
	e.waitBeacons("event", 2) // the stub's queued "early" event, then signup
	if c := cookies(t, ctx, origin, e.URL); len(c) > 0 {
		t.Errorf("cookies while counted without consent: %v", c)
	}
	if keys := storageKeys(t, ctx); len(keys) > 0 {
		t.Errorf("browser storage while counted without consent: %v", keys)
	}
	if eval[bool](t, ctx, bannerOpen) {
		t.Error("banner shown with data-banner=off")
	}

	rows := e.events()
	if len(rows) != 4 {
		t.Fatalf("%d events stored, want 2 page views and 2 events", len(rows))
	}
	for _, ev := range rows {
		if ev.IP != "" || ev.IPTrunc != "" || ev.ConsentID != uuid.Nil || ev.PolicyVersion != consent.ExemptPolicy {
			t.Errorf("%s %s stored ip %q, truncated %q, consent %v, policy %q; want no IP, no consent id, %q",
				ev.Type, ev.Path, ev.IP, ev.IPTrunc, ev.ConsentID, ev.PolicyVersion, consent.ExemptPolicy)
		}
		if ev.VisitorKey == 0 || ev.VisitorKey != rows[0].VisitorKey || ev.SessionID != rows[0].SessionID {
			t.Errorf("%s %s: visitor %d session %d; want one visitor, one visit", ev.Type, ev.Path, ev.VisitorKey, ev.SessionID)
		}
		v := reflect.ValueOf(ev)
		for i := range v.NumField() {
			if s := fmt.Sprint(v.Field(i).Interface()); strings.Contains(s, "127.0.0") {
				t.Errorf("%s = %q holds the client address", v.Type().Field(i).Name, s)
			}
		}
	}

	// The opt-out link: a refusal recorded in the ledger, kept in the
	// consent cookie (the one cookie, set by the visitor's own choice).
	eval[any](t, ctx, `document.body.insertAdjacentHTML('beforeend', '<a id="optout" href="#" data-footfall-consent-settings="opt-out">Opt out</a>'); 1`)
	click(t, ctx, chromedp.CSS(`#optout`))
	waitFor(t, "the opt-out", func() bool { return len(e.asked(func(r request) bool { return r.Path == "/api/consent" })) == 1 })
	run(t, ctx, chromedp.Poll[bool](`document.cookie.includes('footfall_consent=')`))
	before := e.beacons("")
	eval[any](t, ctx, `history.pushState({}, '', '/shop/checkout'); footfall('event', 'after'); 1`)
	open(t, ctx, origin+"/shop/other", "")
	if eval[bool](t, ctx, bannerOpen) {
		t.Error("banner shown after opting out")
	}
	if n := e.beacons(""); n != before {
		t.Errorf("%d beacons after opting out, want 0", n-before)
	}
	if n := len(e.events()); n != len(rows) {
		t.Errorf("%d events stored after opting out, want 0", n-len(rows))
	}
	e.checkSignals(0, store.SignalOptOutLink)
}
