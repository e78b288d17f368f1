package collector_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/store"
)

func TestEmailLinks(t *testing.T) {
	r := newRig(t, false)
	sign := func(l links.Link) string {
		tok, err := r.consent.Links().Sign(l)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	link := links.Link{SiteID: r.site.ID, Campaign: "spring", LinkID: "hero", Target: "https://example.test/sale", Consent: consent.Marketing | consent.Analytics}
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
	other := strings.Split(sign(links.Link{SiteID: r.site.ID, Campaign: "autumn", LinkID: "hero", Target: "https://evil.example/", Consent: consent.Marketing}), ".")
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

	// Without marketing consent, a click still redirects but records nothing.
	noMarketing := sign(links.Link{SiteID: r.site.ID, Campaign: "spring", LinkID: "footer", Target: "https://example.test/", Consent: consent.Analytics})
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
