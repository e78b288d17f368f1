package collector_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/store"
)

// Every combination of granted categories, with and without GPC, end to end
// on both backends: what reaches the store and what is stripped first.
func TestStoredFieldsFollowConsent(t *testing.T) {
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	body := `{"site":"example.test","type":"pageview","token":%q,"sid":"tab-1","user_id":"user-42",
		"url":"https://example.test/shop?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc123",
		"referrer":"https://news.example/story?id=9"}`
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigOn(t, b.open(t), false)
			for cats := store.Categories(0); cats <= store.ConsentAll; cats++ {
				for _, gpc := range []bool{false, true} {
					name := fmt.Sprintf("%s/gpc=%v", cats, gpc)
					tok, err := r.consent.Keyring().Sign(consent.Claims{ConsentID: uuid.New(), SiteID: r.site.ID, Categories: cats,
						PolicyVersion: 1, Issued: r.now.Add(-time.Minute), Expires: r.now.Add(time.Hour)})
					if err != nil {
						t.Fatal(err)
					}
					header := http.Header{"User-Agent": {firefox}}
					if gpc {
						header.Set("Sec-GPC", "1")
					}
					before := len(r.flushed(t))
					w := r.do(t, http.MethodPost, "/api/event", "text/plain", fmt.Sprintf(body, tok), header)
					stored := r.flushed(t)
					if !cats.Has(store.ConsentAnalytics) {
						if w.Code != http.StatusNoContent || len(stored) != before {
							t.Errorf("%s: status %d, %d stored; want 204 and nothing", name, w.Code, len(stored)-before)
						}
						continue
					}
					if w.Code != http.StatusAccepted || len(stored) != before+1 {
						t.Fatalf("%s: status %d, %d stored; want 202 and one", name, w.Code, len(stored)-before)
					}
					var e store.Event
					for _, c := range stored {
						if c.ConsentID.String() == claimsOf(t, r, tok) {
							e = c
						}
					}
					marketing := cats.Has(store.ConsentMarketing) && !gpc
					personal := cats.Has(store.ConsentPersonalization)
					checks := []struct {
						field string
						kept  bool
						want  bool
					}{
						{"ip", e.IP == "192.0.2.1", true},
						{"truncated ip", e.IPTrunc == "192.0.2.0", true},
						{"page", e.Host == "example.test" && e.Path == "/shop", true},
						{"referrer", e.ReferrerHost == "news.example" && e.Referrer != "", true},
						{"browser", e.Browser == "Firefox" && e.OS != "" && e.Device == "desktop", true},
						{"visitor key", e.VisitorKey != 0, true},
						{"session", e.SessionID != 0, true},
						{"stable visitor key", e.KeyVersion == enrich.KeyConsent, personal},
						{"user id", e.UserID == "user-42", personal},
						{"utm", e.UTMSource == "newsletter" && e.UTMMedium == "email" && e.UTMCampaign == "spring", true},
						{"click id", e.ClickID != "", marketing},
						{"gpc flag", e.GPC, gpc},
						{"query free of click ids", e.Query == "", true},
					}
					for _, c := range checks {
						if c.kept != c.want {
							t.Errorf("%s: %s kept=%v, want %v (event %+v)", name, c.field, c.kept, c.want, e)
						}
					}
					if got := store.Categories(e.Consent); got != consent.Effective(cats, gpc) {
						t.Errorf("%s: recorded categories %s, want %s", name, got, consent.Effective(cats, gpc))
					}
				}
			}
			// Read back from the store, the client IP is in the IP column only.
			for _, e := range r.flushed(t) {
				v := reflect.ValueOf(e)
				for i := range v.NumField() {
					f := v.Type().Field(i)
					if f.Name == "IP" {
						continue
					}
					if text := fmt.Sprint(v.Field(i).Interface()); strings.Contains(text, "192.0.2.1") {
						t.Errorf("stored column %s holds the client IP: %q", f.Name, text)
					}
				}
			}
		})
	}
}

func claimsOf(t *testing.T, r *rig, tok string) string {
	t.Helper()
	c, err := r.consent.Keyring().Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c.ConsentID.String()
}
