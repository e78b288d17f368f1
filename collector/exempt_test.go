package collector_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/config"

	"github.com/footfall/footfall/store"
)

func exemptConfig(t *testing.T, exempt bool) *config.Config {
	t.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, "sites:\n  - domain: example.test\n    exempt: %v\n", exempt))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// exemptBody is a tokenless pageview carrying everything the exemption
// must not keep: a user id, a session id and an advertising click id.
const exemptBody = `{"site":"example.test","type":"pageview","url":"https://www.example.test/shop?utm_source=news&gclid=abc123","user_id":"u-42","sid":"tab-1"}`

var browserHeader = http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}

// On an exempt site a visitor without a decision is counted: no IP (not
// even truncated), no user id, no click id, no consent id, marked as
// exempt; page, campaign and the daily visitor key stay.
func TestExemptCountsWithoutConsent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigWith(t, b.open(t), exemptConfig(t, true), false)
			for range 2 {
				if w := r.do(t, http.MethodPost, "/api/event", "text/plain", exemptBody, browserHeader); w.Code != http.StatusAccepted {
					t.Fatalf("tokenless pageview: %d %s, want 202", w.Code, w.Body)
				}
			}
			events := r.flushed(t)
			if len(events) != 2 {
				t.Fatalf("%d events stored, want 2", len(events))
			}
			e := events[0]
			if e.IP != "" || e.IPTrunc != "" || e.UserID != "" || e.ClickID != "" || e.ConsentID != uuid.Nil || e.ISP != "" || e.ASN != 0 {
				t.Errorf("exempt row keeps ip=%q trunc=%q user=%q click=%q consent=%v isp=%q asn=%d",
					e.IP, e.IPTrunc, e.UserID, e.ClickID, e.ConsentID, e.ISP, e.ASN)
			}
			if e.PolicyVersion != consent.ExemptPolicy || e.Consent != 0 {
				t.Errorf("policy version %q, consent %d; want %q, 0", e.PolicyVersion, e.Consent, consent.ExemptPolicy)
			}
			if e.Path != "/shop" || e.UTMSource != "news" || e.Browser == "" || e.VisitorKey == 0 {
				t.Errorf("measurement lost: path %q utm %q browser %q key %d", e.Path, e.UTMSource, e.Browser, e.VisitorKey)
			}
			if events[1].VisitorKey != e.VisitorKey || events[1].SessionID != e.SessionID {
				t.Errorf("two pageviews of one visitor: keys %d/%d, sessions %d/%d", e.VisitorKey, events[1].VisitorKey, e.SessionID, events[1].SessionID)
			}
			// No column holds any part of the client's address (httptest's 192.0.2.1).
			v := reflect.ValueOf(e)
			for i := range v.NumField() {
				if s := fmt.Sprint(v.Field(i).Interface()); strings.Contains(s, "192.0.2") {
					t.Errorf("%s = %q holds the client address", v.Type().Field(i).Name, s)
				}
			}
		})
	}
}

// What an exempt site still refuses: any decision that is not a grant of
// analytics, an objection signal, a page of another domain. A site that is
// not exempt refuses every tokenless event.
func TestExemptRefusals(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			r := newRigWith(t, st, exemptConfig(t, true), false)
			withToken := func(tok string) string {
				return strings.Replace(exemptBody, `"user_id"`, fmt.Sprintf("\"token\":%q,\"user_id\"", tok), 1)
			}
			tests := []struct {
				name   string
				body   string
				header http.Header
			}{
				{"Sec-GPC", exemptBody, http.Header{"Sec-Gpc": {"1"}}},
				{"DNT", exemptBody, http.Header{"Dnt": {"1"}}},
				{"another domain", strings.Replace(exemptBody, "www.example.test", "example.test.evil.example", 1), nil},
				{"refusal token", withToken(r.token(t, 0)), nil},
				{"forged token", withToken(r.token(t, store.ConsentAll) + "x"), nil},
				{"withdrawn cookie value", withToken("r..AQID."), nil},
			}
			for _, tt := range tests {
				h := http.Header{"User-Agent": browserHeader["User-Agent"]}
				for k, v := range tt.header {
					h[k] = v
				}
				if w := r.do(t, http.MethodPost, "/api/event", "text/plain", tt.body, h); w.Code != http.StatusNoContent {
					t.Errorf("%s: %d, want 204", tt.name, w.Code)
				}
			}
			if events := r.flushed(t); len(events) != 0 {
				t.Errorf("%d events stored, want none: %+v", len(events), events)
			}
			// With a grant, the consented path applies: IP and consent id kept.
			if w := r.do(t, http.MethodPost, "/api/event", "text/plain", withToken(r.token(t, store.ConsentAll)), browserHeader); w.Code != http.StatusAccepted {
				t.Fatalf("granted: %d", w.Code)
			}
			events := r.flushed(t)
			if len(events) != 1 || events[0].IP == "" || events[0].ConsentID == uuid.Nil || events[0].PolicyVersion == consent.ExemptPolicy {
				t.Errorf("granted event stored as %+v", events)
			}
		})
	}
	t.Run("not exempt", func(t *testing.T) {
		r := newRigWith(t, backends[0].open(t), exemptConfig(t, false), false)
		if w := r.do(t, http.MethodPost, "/api/event", "text/plain", exemptBody, browserHeader); w.Code != http.StatusNoContent {
			t.Errorf("tokenless pageview on a site that is not exempt: %d, want 204", w.Code)
		}
		if events := r.flushed(t); len(events) != 0 {
			t.Errorf("%d events stored", len(events))
		}
	})
}

// The policy tells the tracker whether to count without a decision.
func TestExemptInPolicy(t *testing.T) {
	for _, exempt := range []bool{true, false} {
		r := newRigWith(t, backends[0].open(t), exemptConfig(t, exempt), false)
		w := r.do(t, http.MethodGet, "/api/consent/policy?site=example.test", "", "", nil)
		want := fmt.Sprintf(`"exempt":%v`, exempt)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
			t.Errorf("policy: %d %s, want %s", w.Code, w.Body, want)
		}
	}
}
