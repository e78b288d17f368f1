package collector_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/store"
)

func TestEmailLinks(t *testing.T) {
	r := newRig(t, false)
	sign := func(l links.Link) string {
		l.Expires = r.now.Add(24 * time.Hour)
		tok, err := r.consent.Links().Sign(l)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	link := links.Link{SiteID: r.site.ID, Campaign: "spring", LinkID: "hero", Target: "https://example.test/sale", Consent: store.ConsentMarketing | store.ConsentAnalytics}
	tok := sign(link)

	w := r.do(t, http.MethodGet, "/r/"+tok, "", "", nil)
	if w.Code != http.StatusFound || w.Header().Get("Location") != link.Target {
		t.Fatalf("signed link: %d Location %q, want 302 to %s", w.Code, w.Header().Get("Location"), link.Target)
	}
	w = r.do(t, http.MethodGet, "/p/"+tok+".gif", "", "", nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/gif" || w.Body.Len() < 30 {
		t.Fatalf("open pixel: %d %q", w.Code, w.Header().Get("Content-Type"))
	}

	parts := strings.Split(tok, ".")
	other := strings.Split(sign(links.Link{SiteID: r.site.ID, Campaign: "autumn", LinkID: "hero", Target: "https://evil.example/", Consent: store.ConsentMarketing}), ".")
	// A token with the payload of another link and this link's signature.
	swapped := strings.Join([]string{parts[0], parts[1], other[2], parts[3]}, ".")
	for _, tt := range []struct{ name, token string }{
		{"changed target or campaign", swapped},
		{"truncated", tok[:len(tok)-3]},
		{"unsigned target", "https:%2F%2Fevil.example%2F"},
		{"garbage", "l1.zz.zz.zz"},
	} {
		w := r.do(t, http.MethodGet, "/r/"+tt.token, "", "", nil)
		if w.Code != http.StatusBadRequest || w.Header().Get("Location") != "" || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d Location %q, want 400 and no Location", tt.name, w.Code, w.Header().Get("Location"))
		}
	}

	// HEAD (link checkers, previews) answers as GET and counts nothing.
	if w := r.do(t, http.MethodHead, "/r/"+tok, "", "", nil); w.Code != http.StatusFound {
		t.Errorf("HEAD of a signed link: %d, want 302", w.Code)
	}
	if w := r.do(t, http.MethodHead, "/p/"+tok+".gif", "", "", nil); w.Code != http.StatusOK {
		t.Errorf("HEAD of an open pixel: %d, want 200", w.Code)
	}

	// Without marketing consent, a click still redirects but records nothing.
	noMarketing := sign(links.Link{SiteID: r.site.ID, Campaign: "spring", LinkID: "footer", Target: "https://example.test/", Consent: store.ConsentAnalytics})
	if w := r.do(t, http.MethodGet, "/r/"+noMarketing, "", "", nil); w.Code != http.StatusFound {
		t.Fatalf("link without marketing consent: %d, want 302", w.Code)
	}
	stored := r.flushed(t)
	var clicks, opens int
	for _, e := range stored {
		switch e.Type {
		case store.EmailClick:
			clicks++
			if e.UTMCampaign != "spring" || e.UTMContent != "hero" || e.Target != link.Target || e.IP != "" {
				t.Errorf("click stored as %+v", e)
			}
		case store.EmailOpen:
			opens++
		}
	}
	if clicks != 1 || opens != 1 {
		t.Errorf("stored %d clicks and %d opens, want 1 and 1 (the click without marketing consent is not recorded)", clicks, opens)
	}
}

// TestEmailToRollups follows newsletter links from signing to the rollups
// on both backends: opens and clicks hit the pixel and redirect handlers,
// the buffer writes them, the aggregator runs, and the rollups hold the
// opens and clicks of each campaign and link, nothing of the links without
// marketing consent, and web metrics made of the one web visit only.
func TestEmailToRollups(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, ok := b.open(t).(interface {
				rigStore
				aggregator.Store
				Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error)
			})
			if !ok {
				t.Fatal("the store cannot be aggregated")
			}
			r := newRigOn(t, st, true)
			sign := func(campaign, link string, cats store.Categories) string {
				tok, err := r.consent.Links().Sign(links.Link{SiteID: r.site.ID, Campaign: campaign, LinkID: link,
					Target: "https://example.test/" + link, Consent: cats, Expires: r.now.Add(24 * time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			hit := func(tok string, opens, clicks int) {
				for range opens {
					if w := r.do(t, http.MethodGet, "/p/"+tok+".gif", "", "", nil); w.Code != http.StatusOK {
						t.Fatalf("open: %d %s", w.Code, w.Body)
					}
				}
				for range clicks {
					if w := r.do(t, http.MethodGet, "/r/"+tok, "", "", nil); w.Code != http.StatusFound {
						t.Fatalf("click: %d %s", w.Code, w.Body)
					}
				}
			}
			hit(sign("spring", "hero", store.ConsentMarketing|store.ConsentAnalytics), 2, 3)
			hit(sign("spring", "footer", store.ConsentMarketing), 1, 4)
			hit(sign("spring/sale", "hero", store.ConsentMarketing), 5, 0)
			hit(sign("spring", "hero", store.ConsentAnalytics), 6, 7) // no marketing: redirects, records nothing
			hit(sign("autumn", "hero", 0), 8, 9)                      // no consent at all
			// One web visit, from a newsletter link, in a browser.
			body := `{"site":"example.test","type":"pageview","url":"https://example.test/hero?utm_medium=email&utm_campaign=spring","token":"` +
				r.token(t, store.ConsentAnalytics|store.ConsentMarketing) + `"}`
			ua := http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}}
			if w := r.do(t, http.MethodPost, "/api/event", "text/plain", body, ua); w.Code != http.StatusAccepted {
				t.Fatalf("pageview: %d %s", w.Code, w.Body)
			}
			stored := r.stored(t)
			if len(stored) != 2+3+1+4+5+1 {
				t.Fatalf("stored %d events, want 16 (15 e-mail events with marketing consent and a pageview)", len(stored))
			}

			agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return r.now.Add(24 * time.Hour) }})
			if sum, err := agg.Once(context.Background()); err != nil || sum.Failed > 0 {
				t.Fatalf("aggregate: %+v, %v", sum, err)
			}
			day := r.now.Truncate(24 * time.Hour)
			rows, err := st.Rollups(context.Background(), store.RollupQuery{SiteID: r.site.ID, Granularity: store.Daily, From: day, To: day.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			var total *store.RollupRow
			for _, row := range rows {
				if store.EmailDimension(row.Dimension) {
					got[row.Dimension+" "+row.Value] = row.Events
					if row.Visitors != 0 || row.Visits != 0 || row.Partial {
						t.Errorf("e-mail row %+v: want no visitors or visits, not partial", row)
					}
				}
				if row.Dimension == store.DimTotal {
					total = &row
				}
			}
			want := map[string]uint64{
				"email_open spring/hero":        2,
				"email_click spring/hero":       3,
				"email_open spring/footer":      1,
				"email_click spring/footer":     4,
				"email_open spring%2Fsale/hero": 5,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("opens and clicks (-want +got):\n%s", diff)
			}
			if total == nil || total.Visitors != 1 || total.Visits != 1 || total.Pageviews != 1 || total.Events != 0 {
				t.Errorf("totals %+v: want the one web visit (1 visitor, 1 visit, 1 pageview, no events)", total)
			}
		})
	}
}

// Informational finding of #16: newsletter tracking ends with the link's
// expiry (the link still redirects), a link signed before expiry existed
// records nothing, and a subscriber's opens and clicks are stored under a
// user id that erasure by user id finds.
func TestEmailLinkExpiryAndSubscriber(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r := newRigOn(t, b.open(t), false)
			ctx := context.Background()
			sign := func(expires time.Time, subscriber string) string {
				tok, err := r.consent.Links().Sign(links.Link{SiteID: r.site.ID, Campaign: "spring", LinkID: "hero",
					Target: "https://example.test/sale", Consent: store.ConsentMarketing | store.ConsentAnalytics, Expires: expires, Subscriber: subscriber})
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			live, expired := sign(r.now.Add(time.Hour), "crm-4711"), sign(r.now, "crm-4711")
			for _, tok := range []string{live, expired} {
				if w := r.do(t, http.MethodGet, "/r/"+tok, "", "", nil); w.Code != http.StatusFound {
					t.Fatalf("click: %d, want 302 (an expired link still redirects)", w.Code)
				}
			}
			stored := r.flushed(t)
			if len(stored) != 1 || stored[0].UserID != "subscriber:crm-4711" {
				t.Fatalf("stored %+v, want the live link's click under user id subscriber:crm-4711", stored)
			}
			type eraser interface {
				EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
			}
			n, err := r.store.(eraser).EraseSubject(ctx, store.Subject{UserID: collector.SubscriberUserID("crm-4711")})
			if err != nil || n != 1 {
				t.Fatalf("erase by user id: %d, %v; want 1 erased", n, err)
			}
			if left := r.flushed(t); len(left) != 0 {
				t.Errorf("after erasure: %d events left", len(left))
			}
		})
	}
}
