package collector_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// decision is what POST /api/consent answers to a grant.
type decision struct {
	ConsentID  uuid.UUID       `json:"consent_id"`
	Token      string          `json:"token"`
	Expires    time.Time       `json:"expires"`
	Action     string          `json:"action"`
	Categories map[string]bool `json:"categories"`
}

// decide posts a decision and returns the answer.
func (r *rig) decide(t *testing.T, body string, header http.Header) decision {
	t.Helper()
	w := r.do(t, http.MethodPost, "/api/consent", "application/json", body, header)
	if w.Code != http.StatusOK {
		t.Fatalf("consent: %d %s", w.Code, w.Body)
	}
	var d decision
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (r *rig) acceptAll(t *testing.T) decision {
	t.Helper()
	return r.decide(t, `{"site":"example.test","categories":{"analytics":true,"personalization":true,"marketing":true},"language":"en"}`, nil)
}

// pageview posts one pageview with token and returns the status.
func (r *rig) pageview(t *testing.T, token, path string) int {
	t.Helper()
	body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test%s","token":%q}`, path, token)
	return r.do(t, http.MethodPost, "/api/event", "text/plain", body, nil).Code
}

// flushed writes out what is queued and returns the site's stored events.
func (r *rig) flushed(t *testing.T) []store.Event {
	t.Helper()
	if err := r.buffer.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := r.store.Events(context.Background(), store.EventQuery{SiteID: r.site.ID, From: r.now.Add(-time.Hour), To: r.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func policy2() *config.Config {
	cfg, err := config.Parse([]byte("sites:\n  - domain: example.test\n    consent:\n      policy_version: 2\n"))
	if err != nil {
		panic(err)
	}
	return cfg
}

// Every way a token can be wrong gets a 204 and stores nothing; a good one
// gets a 202 and is stored.
func TestTokensTheServerRejects(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigWith(t, b.open(t), policy2(), false)
			ctx := context.Background()
			sign := func(c consent.Claims) string {
				tok, err := r.consent.Keyring().Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			good := consent.Claims{ConsentID: uuid.New(), SiteID: r.site.ID, Categories: store.ConsentAll, PolicyVersion: 2,
				Issued: r.now.Add(-time.Hour), Expires: r.now.Add(time.Hour)}
			with := func(edit func(c *consent.Claims)) string {
				c := good
				c.ConsentID = uuid.New()
				edit(&c)
				return sign(c)
			}
			valid := sign(good)
			tampered := []byte(valid)
			tampered[15] ^= 1 // inside the payload: the signature no longer matches
			withdrawn := r.acceptAll(t)
			if w := r.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, withdrawn.ConsentID, withdrawn.Token), nil); w.Code != http.StatusOK {
				t.Fatalf("withdraw: %d %s", w.Code, w.Body)
			}

			// A key retired in the store stops verifying once the state refreshes.
			retired := sign(good)
			kid := strings.Split(retired, ".")[1]
			newer, err := consent.NewKey(time.Now().Add(2 * time.Second)) // stores keep seconds: be clearly newer
			if err != nil {
				t.Fatal(err)
			}
			if err := r.store.AddConsentKey(ctx, newer); err != nil {
				t.Fatal(err)
			}
			if err := r.consent.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			rotated := retired // signed by the old key, which still verifies after rotation
			if got := r.pageview(t, rotated, "/rotated"); got != http.StatusAccepted {
				t.Errorf("token of a rotated (not retired) key: %d, want 202", got)
			}
			if next := sign(good); strings.Split(next, ".")[1] != newer.ID {
				t.Errorf("after rotation tokens are signed by %s, want the newest key %s", strings.Split(next, ".")[1], newer.ID)
			}
			if err := r.store.RetireConsentKey(ctx, kid); err != nil {
				t.Fatal(err)
			}
			if err := r.consent.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			valid = sign(good) // now by the newer key

			tests := []struct {
				name, token string
				want        int
			}{
				{"valid", valid, http.StatusAccepted},
				{"none", "", http.StatusNoContent},
				{"forged", "v1.deadbeef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", http.StatusNoContent},
				{"tampered", string(tampered), http.StatusNoContent},
				{"truncated", valid[:len(valid)-4], http.StatusNoContent},
				{"expired", with(func(c *consent.Claims) { c.Expires = r.now.Add(-time.Second) }), http.StatusNoContent},
				{"older than max age", with(func(c *consent.Claims) { c.Issued = r.now.Add(-400 * 24 * time.Hour) }), http.StatusNoContent},
				{"wrong site", with(func(c *consent.Claims) { c.SiteID++ }), http.StatusNoContent},
				{"old policy", with(func(c *consent.Claims) { c.PolicyVersion = 1 }), http.StatusNoContent},
				{"policy from the future", with(func(c *consent.Claims) { c.PolicyVersion = 99 }), http.StatusNoContent},
				{"issued in the future", with(func(c *consent.Claims) {
					c.Issued, c.Expires = r.now.Add(time.Hour), r.now.Add(400*24*time.Hour)
				}), http.StatusNoContent},
				{"issued within clock skew", with(func(c *consent.Claims) { c.Issued = r.now.Add(consent.MaxClockSkew) }), http.StatusAccepted},
				{"no analytics", with(func(c *consent.Claims) { c.Categories = store.ConsentMarketing | store.ConsentPersonalization }), http.StatusNoContent},
				{"withdrawn, replayed", withdrawn.Token, http.StatusNoContent},
				{"retired key", retired, http.StatusNoContent},
			}
			before := len(r.flushed(t))
			accepted := 0
			for _, tt := range tests {
				if got := r.pageview(t, tt.token, "/"+strings.ReplaceAll(tt.name, " ", "-")); got != tt.want {
					t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
				}
				if tt.want == http.StatusAccepted {
					accepted++
				}
			}
			stored := r.flushed(t)
			if len(stored)-before != accepted {
				t.Errorf("stored %d events, want %d", len(stored)-before, accepted)
			}
			for _, e := range stored {
				if e.Path != "/valid" && e.Path != "/rotated" && e.Path != "/issued-within-clock-skew" {
					t.Errorf("stored an event of a rejected token: %s", e.Path)
				}
			}
		})
	}
}

func TestWithdrawErasesAndStopsCollection(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigOn(t, b.open(t), false)
			leaving, staying := r.acceptAll(t), r.acceptAll(t)
			for i := range 3 {
				r.pageview(t, leaving.Token, fmt.Sprintf("/leaving/%d", i))
			}
			for i := range 2 {
				r.pageview(t, staying.Token, fmt.Sprintf("/staying/%d", i))
			}
			if got := len(r.flushed(t)); got != 5 {
				t.Fatalf("stored %d before withdrawal, want 5", got)
			}
			r.pageview(t, leaving.Token, "/queued-at-withdrawal") // still in the queue when the withdrawal comes

			w := r.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, leaving.ConsentID, leaving.Token), nil)
			if w.Code != http.StatusOK {
				t.Fatalf("withdraw: %d %s", w.Code, w.Body)
			}
			var receipt store.Receipt
			if err := json.Unmarshal(w.Body.Bytes(), &receipt); err != nil {
				t.Fatal(err)
			}
			if !receipt.Withdrawn || receipt.ConsentID != leaving.ConsentID || receipt.ErasedEvents != 3 || receipt.ErasedAt.IsZero() {
				t.Errorf("receipt = %+v, want withdrawn, 3 erased", receipt)
			}
			if got := r.pageview(t, leaving.Token, "/after"); got != http.StatusNoContent {
				t.Errorf("event after withdrawal: %d, want 204", got)
			}
			stored := r.flushed(t)
			if len(stored) != 2 {
				t.Fatalf("stored %d after withdrawal, want the other visitor's 2", len(stored))
			}
			for _, e := range stored {
				if e.ConsentID != staying.ConsentID {
					t.Errorf("an event of the withdrawn consent survived: %s", e.Path)
				}
			}
			// The visitor's state shows the withdrawal; an update cannot revive it.
			w = r.do(t, http.MethodGet, "/api/consent/"+leaving.ConsentID.String(), "", "", http.Header{"Authorization": {"Bearer " + leaving.Token}})
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"withdrawn":true`) {
				t.Errorf("state after withdrawal: %d %s", w.Code, w.Body)
			}
			w = r.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"update","categories":{"analytics":true},"consent_id":%q,"token":%q}`, leaving.ConsentID, leaving.Token), nil)
			if w.Code != http.StatusGone {
				t.Errorf("update of a withdrawn consent: %d, want 410", w.Code)
			}
		})
	}
}

func TestVisitorSeesAndErasesOwnData(t *testing.T) {
	r := newRig(t, false)
	me, other := r.acceptAll(t), r.acceptAll(t)
	r.pageview(t, me.Token, "/mine")
	r.pageview(t, other.Token, "/theirs")
	r.flushed(t)
	auth := http.Header{"Authorization": {"Bearer " + me.Token}}
	path := "/api/consent/" + me.ConsentID.String() + "/data"

	w := r.do(t, http.MethodGet, path, "", "", auth)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"host":"example.test","path":"/mine"`) || strings.Contains(w.Body.String(), "theirs") {
		t.Fatalf("own data: %d %s", w.Code, w.Body)
	}
	for _, tt := range []struct {
		name   string
		header http.Header
		target string
	}{
		{"no token", nil, path},
		{"another visitor's token", http.Header{"Authorization": {"Bearer " + other.Token}}, path},
		{"garbage token", http.Header{"Authorization": {"Bearer x.y.z"}}, path},
	} {
		if w := r.do(t, http.MethodGet, tt.target, "", "", tt.header); w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s, want 403", tt.name, w.Code, w.Body)
		}
	}
	if w := r.do(t, http.MethodGet, "/api/consent/not-a-uuid/data", "", "", auth); w.Code != http.StatusBadRequest {
		t.Errorf("bad id: %d, want 400", w.Code)
	}

	w = r.do(t, http.MethodDelete, path, "", "", auth)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"erased_events":1`) {
		t.Fatalf("erase: %d %s", w.Code, w.Body)
	}
	w = r.do(t, http.MethodGet, path, "", "", auth)
	if !strings.Contains(w.Body.String(), `"events":[]`) {
		t.Errorf("after erasure: %s", w.Body)
	}
	// Erasing data keeps the consent: new visits still count (from the
	// next second on: events of the request's second are erased too).
	r.now = r.now.Add(time.Second)
	if got := r.pageview(t, me.Token, "/again"); got != http.StatusAccepted {
		t.Errorf("event after erasure: %d, want 202", got)
	}
	if got := len(r.flushed(t)); got != 2 {
		t.Errorf("stored %d, want the other visitor's and the new one", got)
	}
}

func TestDecisions(t *testing.T) {
	r := newRig(t, false)
	tests := []struct {
		name       string
		body       string
		header     http.Header
		action     string
		categories map[string]bool
	}{
		{"accept all", `{"site":"example.test","signal":"banner","categories":{"analytics":true,"personalization":true,"marketing":true}}`, nil,
			"accept_all", map[string]bool{"necessary": true, "analytics": true, "personalization": true, "marketing": true}},
		{"reject all", `{"site":"example.test","categories":{}}`, nil,
			"reject_all", map[string]bool{"necessary": true, "analytics": false, "personalization": false, "marketing": false}},
		{"custom", `{"site":"example.test","signal":"tcf","categories":{"necessary":true,"analytics":true}}`, nil,
			"custom", map[string]bool{"necessary": true, "analytics": true, "personalization": false, "marketing": false}},
		{"GPC turns marketing off", `{"site":"example.test","categories":{"analytics":true,"personalization":true,"marketing":true}}`, http.Header{"Sec-Gpc": {"1"}},
			"gpc_auto", map[string]bool{"necessary": true, "analytics": true, "personalization": true, "marketing": false}},
		{"DNT is treated like GPC by default", `{"site":"example.test","categories":{"analytics":true,"marketing":true}}`, http.Header{"Dnt": {"1"}},
			"gpc_auto", map[string]bool{"necessary": true, "analytics": true, "personalization": false, "marketing": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.decide(t, tt.body, tt.header)
			if d.Action != tt.action || fmt.Sprint(d.Categories) != fmt.Sprint(tt.categories) || d.Token == "" || d.ConsentID == uuid.Nil {
				t.Errorf("got %+v, want action %s categories %v", d, tt.action, tt.categories)
			}
			if !d.Expires.After(r.now.Add(390 * 24 * time.Hour)) {
				t.Errorf("expires %s, want the 13-month default", d.Expires)
			}
		})
	}
	// Every decision is in the ledger, on one intact chain, with no IP.
	recs, err := r.store.ConsentRecords(context.Background(), r.site.ID, r.now.Add(-time.Hour), r.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(tests) {
		t.Errorf("ledger holds %d records, want %d", len(recs), len(tests))
	}
	if br := store.VerifyChain(recs); br != nil {
		t.Errorf("ledger chain broken: %v", br)
	}
	if !recs[3].GPC || recs[3].DNT || !recs[4].DNT {
		t.Errorf("signals not recorded: %+v / %+v", recs[3], recs[4])
	}
	// What carried each decision: as stated, "unstated" when the body does
	// not say.
	var signals []store.ConsentSignal
	for _, rec := range recs {
		signals = append(signals, rec.Signal)
	}
	u := store.SignalUnstated
	if want := []store.ConsentSignal{store.SignalBanner, u, store.SignalTCF, u, u}; !slices.Equal(signals, want) {
		t.Errorf("signals %q, want %q", signals, want)
	}
	if want := config.DefaultBanner()["en"].Hash(); recs[0].BannerHash != want || recs[0].Language != "en" {
		t.Errorf("banner hash %q language %q, want the built-in English text's %q", recs[0].BannerHash, recs[0].Language, want)
	}
}

func TestBadDecisions(t *testing.T) {
	r := newRigWith(t, backends[0].open(t), policy2(), false)
	d := r.decide(t, `{"site":"example.test","categories":{"analytics":true}}`, nil)
	tests := []struct {
		name, body string
		code       int
	}{
		{"malformed", `{"site":`, 400},
		{"no site", `{"categories":{}}`, 400},
		{"unknown site", `{"site":"other.test","categories":{}}`, 404},
		{"no categories", `{"site":"example.test"}`, 400},
		{"unknown category", `{"site":"example.test","categories":{"tracking":true}}`, 400},
		{"necessary off", `{"site":"example.test","categories":{"necessary":false}}`, 400},
		{"unknown action", `{"site":"example.test","action":"maybe","categories":{}}`, 400},
		{"old policy version", `{"site":"example.test","policy_version":1,"categories":{}}`, 409},
		{"bad language", `{"site":"example.test","language":"<b>","categories":{}}`, 400},
		{"bad banner hash", `{"site":"example.test","banner_hash":"XYZ","categories":{}}`, 400},
		{"unknown signal", `{"site":"example.test","signal":"psychic","categories":{}}`, 400},
		{"the server's own signal", `{"site":"example.test","signal":"unstated","categories":{}}`, 400},
		{"withdraw without token", fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q}`, d.ConsentID), 400},
		{"withdraw with another's token", fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, uuid.New(), d.Token), 403},
		{"update with a bad id", fmt.Sprintf(`{"site":"example.test","action":"update","categories":{},"consent_id":"x","token":%q}`, d.Token), 400},
	}
	for _, tt := range tests {
		w := r.do(t, http.MethodPost, "/api/consent", "application/json", tt.body, nil)
		if w.Code != tt.code || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s, want %d with a JSON error", tt.name, w.Code, w.Body, tt.code)
		}
	}
}

// Two collectors on one store: a withdrawal on one reaches the other within
// its refresh interval.
func TestWithdrawalReachesEveryReplica(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			one := newRigOn(t, st, false)
			one.now = time.Now() // replicas read withdrawals by the writer's clock
			ctx := context.Background()
			// The second replica shares the store and its keys, with a refresh loop of its own.
			other, err := collector.LoadConsentState(ctx, st, time.Hour, 50*time.Millisecond, nil)
			if err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- other.Run(runCtx) }()
			defer func() { cancel(); <-done }()

			d := one.acceptAll(t)
			claims, err := other.Keyring().Verify(d.Token)
			if err != nil {
				t.Fatalf("the other replica cannot verify a token this one signed: %v", err)
			}
			if other.Revoked(claims.ConsentID) {
				t.Fatal("revoked before the withdrawal")
			}
			one.do(t, http.MethodPost, "/api/consent", "application/json",
				fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, d.ConsentID, d.Token), nil)
			deadline := time.Now().Add(10 * time.Second)
			for !other.Revoked(claims.ConsentID) {
				if time.Now().After(deadline) {
					t.Fatal("the withdrawal did not reach the other replica")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestPolicyEndpoint(t *testing.T) {
	r := newRigWith(t, backends[0].open(t), policy2(), false)
	type policy struct {
		PolicyVersion uint32                       `json:"policy_version"`
		Lang          string                       `json:"lang"`
		Texts         map[string]config.BannerText `json:"texts"`
		BannerHashes  map[string]string            `json:"banner_hashes"`
	}
	// One language per answer: the lang parameter, else the best of
	// Accept-Language, else English.
	tests := []struct {
		name, query, acceptLanguage, want string
	}{
		{"nothing asked", "", "", "en"},
		{"Accept-Language", "", "de-CH, de;q=0.9, en;q=0.8", "de"},
		{"Accept-Language by quality", "", "es, en;q=0.5, fr;q=0.9", "fr"},
		{"Accept-Language without a known language", "", "es, it", "en"},
		{"lang wins over Accept-Language", "&lang=fr", "de", "fr"},
		{"lang with a region", "&lang=DE-at", "", "de"},
		{"unknown lang: Accept-Language", "&lang=es", "de", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.acceptLanguage != "" {
				h.Set("Accept-Language", tt.acceptLanguage)
			}
			w := r.do(t, http.MethodGet, "/api/consent/policy?site=example.test"+tt.query, "", "", h)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var p policy
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.PolicyVersion != 2 || p.Lang != tt.want || len(p.Texts) != 1 || len(p.BannerHashes) != 1 || p.BannerHashes[tt.want] != p.Texts[tt.want].Hash() || p.Texts[tt.want].Title == "" {
				t.Errorf("got version %d, lang %q, %d texts, hashes %v; want version 2, %q only", p.PolicyVersion, p.Lang, len(p.Texts), p.BannerHashes, tt.want)
			}
			if vary := strings.Join(w.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept-Language") || !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary %q, want Accept-Language and Accept-Encoding", vary)
			}
		})
	}

	// Compressed when accepted: the same answer, smaller.
	plain := r.do(t, http.MethodGet, "/api/consent/policy?site=example.test&lang=de", "", "", nil)
	zipped := r.do(t, http.MethodGet, "/api/consent/policy?site=example.test&lang=de", "", "", http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
	if zipped.Header().Get("Content-Encoding") != "gzip" || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("Content-Encoding %q with gzip accepted, %q without", zipped.Header().Get("Content-Encoding"), plain.Header().Get("Content-Encoding"))
	}
	size := zipped.Body.Len()
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Errorf("the gzipped answer is not the plain one:\n%s\n%s", unzipped, plain.Body)
	}
	t.Logf("policy answer: %d B, %d B gzipped", plain.Body.Len(), size)
	if size >= plain.Body.Len() {
		t.Errorf("gzipped %d B, plain %d B", size, plain.Body.Len())
	}

	if w := r.do(t, http.MethodGet, "/api/consent/policy?site=nope.test", "", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown site: %d", w.Code)
	}
}
