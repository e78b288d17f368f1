package collector_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/store"
)

// replica is a second collector over the rig's store, with consent state and
// a buffer of its own, as another `footfall serve` process would have.
func (r *rig) replica(t *testing.T) *rig {
	t.Helper()
	o := &rig{store: r.store, site: r.site, now: r.now, policy: r.policy}
	o.product = newProduct(t, r.store, nil, func() time.Time { return o.now })
	o.consent, o.buffer, o.erasures, o.c, o.handler = o.product.Consent, o.product.Buffer, o.product.Erasures, o.product.Collector, o.product.Handler
	o.product.Start(context.Background())
	t.Cleanup(func() {
		if err := o.product.Stop(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return o
}

// update posts an update of d's consent to categories and returns the answer.
func (r *rig) update(t *testing.T, d decision, categories string) decision {
	t.Helper()
	return r.decide(t, fmt.Sprintf(`{"site":"example.test","action":"update","categories":%s,"consent_id":%q,"token":%q}`,
		categories, d.ConsentID, d.Token), nil)
}

// campaignView posts a pageview with campaign tags and an ad click id.
func (r *rig) campaignView(t *testing.T, token, path string) int {
	t.Helper()
	body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test%s?utm_source=news&gclid=G123","token":%q}`, path, token)
	return r.do(t, http.MethodPost, "/api/event", "text/plain", body, nil).Code
}

// Finding 3 of #16: an update that narrows consent binds the consent id's
// older tokens, on the replica that took it at once and on every other
// replica once it has read the store.
func TestUpdateNarrowsOlderTokens(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			one := newRigOn(t, b.open(t), false)
			one.now = time.Now().UTC() // replicas read changes by the writer's clock
			two := one.replica(t)
			two.now = one.now

			all := one.decide(t, `{"site":"example.test","categories":{"analytics":true,"marketing":true}}`, nil)
			if got := two.campaignView(t, all.Token, "/before"); got != http.StatusAccepted {
				t.Fatalf("before the update: %d, want 202", got)
			}
			analytics := one.update(t, all, `{"analytics":true}`)
			if got := one.campaignView(t, all.Token, "/old-token-here"); got != http.StatusAccepted {
				t.Fatalf("old token on the replica that took the update: %d, want 202 (analytics still granted)", got)
			}
			if err := two.consent.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := two.campaignView(t, all.Token, "/old-token-there"); got != http.StatusAccepted {
				t.Fatalf("old token on the other replica: %d, want 202", got)
			}
			two.flushed(t)
			stored := one.flushed(t)
			if len(stored) != 3 {
				t.Fatalf("stored %d events, want 3", len(stored))
			}
			for _, e := range stored {
				if e.Path == "/before" {
					if e.ClickID == "" {
						t.Errorf("%s: the click id granted before the update was not stored", e.Path)
					}
					continue
				}
				if e.ClickID != "" || store.Categories(e.Consent) != store.ConsentAnalytics {
					t.Errorf("%s: stored click id %q, consent %v after marketing was taken back, want analytics only", e.Path, e.ClickID, store.Categories(e.Consent).Names())
				}
			}

			// Narrowed to nothing: neither the first token nor the second
			// collects, on either replica; the state says all false.
			one.update(t, analytics, `{}`)
			if err := two.consent.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, r := range []*rig{one, two} {
				for _, tok := range []string{all.Token, analytics.Token} {
					if got := r.campaignView(t, tok, "/after-refusal"); got != http.StatusNoContent {
						t.Errorf("a token older than the refusal: %d, want 204", got)
					}
				}
			}
			w := two.do(t, http.MethodGet, "/api/consent/"+all.ConsentID.String(), "", "", http.Header{"Authorization": {"Bearer " + all.Token}})
			if !strings.Contains(w.Body.String(), `"categories":{"analytics":false,"marketing":false,"necessary":true,"personalization":false}`) {
				t.Errorf("state after the refusal: %s", w.Body)
			}

			// Widening again (a second later: decisions of one second bind
			// each other) gives the newest token what it says.
			one.now = one.now.Add(time.Second) // a later second than the refusal
			again := one.update(t, analytics, `{"analytics":true}`)
			if got := one.campaignView(t, again.Token, "/again"); got != http.StatusAccepted {
				t.Errorf("the newest token after widening: %d, want 202", got)
			}
		})
	}
}

// Finding 3, the other way round: the update was taken by another replica
// after this one's last read; a token it issued is trusted as new, and an
// update of a consent withdrawn on another replica is refused from the
// ledger.
func TestUpdateOfConsentWithdrawnElsewhereIsRefused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			one := newRigOn(t, b.open(t), false)
			one.now = time.Now().UTC()
			two := one.replica(t)
			two.now = one.now
			d := one.acceptAll(t)
			if w := one.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil); w.Code != http.StatusOK {
				t.Fatalf("withdraw: %d %s", w.Code, w.Body)
			}
			// two has not refreshed: only the ledger knows.
			w := two.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"update","categories":{"analytics":true},"consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil)
			if w.Code != http.StatusGone {
				t.Errorf("update of a consent withdrawn on another replica: %d %s, want 410", w.Code, w.Body)
			}
		})
	}
}

// Finding 6 of #16: a token of a retired key still lets its visitor see,
// erase and withdraw (never collect, never renew).
func TestRetiredKeyTokenStillOwnsItsData(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigOn(t, b.open(t), false)
			ctx := context.Background()
			d := r.acceptAll(t)
			if got := r.pageview(t, d.Token, "/mine"); got != http.StatusAccepted {
				t.Fatalf("pageview: %d", got)
			}
			r.flushed(t)
			newer, err := consent.NewKey(time.Now().Add(2 * time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.store.AddConsentKey(ctx, newer); err != nil {
				t.Fatal(err)
			}
			if err := r.store.RetireConsentKey(ctx, strings.Split(d.Token, ".")[1]); err != nil {
				t.Fatal(err)
			}
			if err := r.consent.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if got := r.pageview(t, d.Token, "/after-retirement"); got != http.StatusNoContent {
				t.Errorf("collecting with a retired key's token: %d, want 204", got)
			}
			auth := http.Header{"Authorization": {"Bearer " + d.Token}}
			path := "/api/consent/" + d.ConsentID.String()
			if w := r.do(t, http.MethodGet, path, "", "", auth); w.Code != http.StatusOK {
				t.Errorf("state: %d %s, want 200", w.Code, w.Body)
			}
			if w := r.do(t, http.MethodGet, path+"/data", "", "", auth); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "/mine") {
				t.Errorf("data: %d %s, want 200 with the event", w.Code, w.Body)
			}
			if w := r.do(t, http.MethodDelete, path+"/data", "", "", auth); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"erased_events":1`) {
				t.Errorf("erase: %d %s, want 200 erasing 1", w.Code, w.Body)
			}
			if w := r.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"update","categories":{"analytics":true},"consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil); w.Code != http.StatusForbidden {
				t.Errorf("renewing with a retired key's token: %d, want 403", w.Code)
			}
			if w := r.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil); w.Code != http.StatusOK {
				t.Errorf("withdraw: %d %s, want 200", w.Code, w.Body)
			}
			if !r.consent.Revoked(d.ConsentID) {
				t.Error("the withdrawal did not take")
			}
		})
	}
}

// Informational findings of #16: the visitor's token travels only in
// Authorization (query strings reach logs), and only the site's own pages
// may read a visitor's answers.
func TestVisitorEndpointsTakeTokenFromHeaderAndSiteOrigin(t *testing.T) {
	r := newRig(t, false)
	d := r.acceptAll(t)
	path := "/api/consent/" + d.ConsentID.String() + "/data"
	if w := r.do(t, http.MethodGet, path+"?token="+d.Token, "", "", nil); w.Code != http.StatusForbidden {
		t.Errorf("token in the query string: %d, want 403", w.Code)
	}
	for _, tt := range []struct {
		origin, want string
	}{
		{"https://example.test", "https://example.test"},
		{"https://www.example.test", "https://www.example.test"},
		{"https://evil.test", ""},
		{"https://example.test.evil.test", ""},
		{"", ""},
	} {
		h := http.Header{"Authorization": {"Bearer " + d.Token}}
		if tt.origin != "" {
			h.Set("Origin", tt.origin)
		}
		w := r.do(t, http.MethodGet, path, "", "", h)
		if got := w.Header().Get("Access-Control-Allow-Origin"); w.Code != http.StatusOK || got != tt.want {
			t.Errorf("GET from %q: %d, Access-Control-Allow-Origin %q, want 200 and %q", tt.origin, w.Code, got, tt.want)
		}
		w = r.do(t, http.MethodOptions, path, "", "", http.Header{"Origin": {tt.origin}, "Access-Control-Request-Method": {"DELETE"}})
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.want {
			t.Errorf("preflight from %q: Access-Control-Allow-Origin %q, want %q", tt.origin, got, tt.want)
		}
	}
}

// Finding 8 of #16: a click's target goes through the URL hygiene of pages:
// no secret, e-mail address, click id or fragment is stored.
func TestClickTargetIsCleaned(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigOn(t, b.open(t), false)
			tok := r.token(t, store.ConsentAnalytics)
			for _, target := range []string{
				"https://example.test/reset?token=SECRET&email=a%40b.test&gclid=G#SECRET",
				"https://user:SECRET@example.test/reset?token=SECRET",
				"mailto:a@b.test?subject=SECRET",
			} {
				body := fmt.Sprintf(`{"site":"example.test","type":"click","name":"link","url":"https://example.test/","target":%q,"token":%q}`, target, tok)
				if w := r.do(t, http.MethodPost, "/api/event", "text/plain", body, nil); w.Code != http.StatusAccepted {
					t.Fatalf("click: %d %s", w.Code, w.Body)
				}
			}
			var got []string
			for _, e := range r.flushed(t) {
				got = append(got, e.Target)
				if strings.Contains(e.Target, "SECRET") || strings.Contains(e.Target, "@") || strings.Contains(e.Target, "gclid") {
					t.Errorf("stored target %q", e.Target)
				}
			}
			if !slices.Contains(got, "https://example.test/reset") || !slices.Contains(got, "mailto:") {
				t.Errorf("targets %q, want https://example.test/reset and mailto:", got)
			}
		})
	}
}

// Finding 5 of #16: one client cannot flood the consent ledger. Many
// decisions at once from one address: a burst is recorded, the rest are
// 429 with Retry-After and counted; other clients are not affected, and the
// client is served again once its bucket refills.
func TestConsentDecisionsAreRateLimitedPerClient(t *testing.T) {
	r := newRig(t, false)
	const clients = 40
	decide := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/consent", strings.NewReader(`{"site":"example.test","categories":{"analytics":true}}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr
		w := httptest.NewRecorder()
		r.handler.ServeHTTP(w, req)
		return w
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[int]int{}
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One IPv6 /64: every address in it is the same client.
			w := decide(fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1))
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
			if w.Code == http.StatusTooManyRequests && (w.Header().Get("Retry-After") != "2" || !strings.Contains(w.Body.String(), `"error"`)) {
				t.Errorf("429 with Retry-After %q and body %s, want 2 s and a JSON error", w.Header().Get("Retry-After"), w.Body)
			}
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] != 10 || codes[http.StatusTooManyRequests] != clients-10 {
		t.Errorf("%d decisions at once from one client: %v, want a burst of 10 and the rest 429", clients, codes)
	}
	recs, err := r.store.ConsentRecords(context.Background(), r.site.ID, r.now.Add(-time.Hour), r.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Errorf("the ledger holds %d records, want the 10 allowed", len(recs))
	}
	if w := decide("198.51.100.7:5000"); w.Code != http.StatusOK {
		t.Errorf("another client: %d, want 200", w.Code)
	}
	r.now = r.now.Add(2 * time.Second) // 30 a minute: one more after 2 s
	if w := decide("[2001:db8:1:2::99]:4000"); w.Code != http.StatusOK {
		t.Errorf("after the refill: %d, want 200", w.Code)
	}
	if w := decide("[2001:db8:1:2::99]:4000"); w.Code != http.StatusTooManyRequests {
		t.Errorf("right after: %d, want 429", w.Code)
	}
}

// Finding 5: heads (withdrawn and updated consent ids) older than the
// longest token life are forgotten, so the set stays bounded.
func TestOldHeadsAreForgotten(t *testing.T) {
	key, err := consent.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := collector.LoadConsentState(context.Background(), &withdrawalSource{key: key}, time.Hour, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh := uuid.New(), uuid.New()
	cs.Note(store.ConsentChange{ConsentID: old, Time: time.Now().Add(-2 * time.Hour), Withdrawn: true})
	cs.Note(store.ConsentChange{ConsentID: fresh, Time: time.Now(), Withdrawn: true})
	if err := cs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cs.Heads() != 1 || !cs.Revoked(fresh) || cs.Revoked(old) {
		t.Errorf("heads %d, fresh withdrawn %v, old withdrawn %v; want only the fresh one kept", cs.Heads(), cs.Revoked(fresh), cs.Revoked(old))
	}
}
