package dashboard_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/store/storetest"
)

// The Pages card's Top pages tab has a Scroll column: each page's average
// scroll depth as the breakdown API answers it (metrics scroll_depth), in
// whole %, and a dash for a page without any; under a filter too.
func TestBrowserScrollDepth(t *testing.T) {
	s := newServerWith(t, nil, storetest.ScrollEvents)
	ctx := newBrowser(t)
	const day = "2026-03-02" // storetest.PropsDay, the fixture's day
	cookie := signIn(t, ctx, s, "/?site="+s.site+"&period=30d")
	type cell struct {
		Value string `json:"value"`
		N     string `json:"n"`
		Text  string `json:"text"`
	}
	check := func(filters string) map[string]cell {
		t.Helper()
		q := url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day}}
		if filters != "" {
			q.Set("filters", filters)
		}
		do(t, ctx, chromedp.Navigate(s.URL+"/?"+q.Encode()))
		waitJS(t, ctx, "the pages", `!!document.querySelector('table[data-property=page] tbody tr [data-metric=scroll_depth]') && !document.querySelector('.table-body[aria-busy=true]')`)
		got := map[string]cell{}
		for _, c := range eval[[]cell](t, ctx, `[...document.querySelectorAll('table[data-property=page] tbody tr')].map(tr =>
			(td => ({value: tr.dataset.value, n: td.dataset.value, text: td.textContent}))(tr.querySelector('[data-metric=scroll_depth]')))`) {
			got[c.Value] = c
		}
		var api struct{ Results []map[string]any }
		q.Set("property", "page")
		q.Set("metrics", "visitors,pageviews,scroll_depth")
		s.getJSON(t, cookie, "/api/v1/stats/breakdown", q, &api)
		if len(got) != len(api.Results) || len(got) == 0 {
			t.Fatalf("filters %q: pages %v, API %v", filters, got, api.Results)
		}
		for _, r := range api.Results {
			c, want := got[fmt.Sprint(r["page"])], cell{Value: fmt.Sprint(r["page"]), Text: "–"}
			if d, ok := r["scroll_depth"].(float64); ok {
				want.N, want.Text = fmt.Sprint(d), fmt.Sprintf("%.0f%%", d)
			}
			if c != want {
				t.Errorf("filters %q: %s's scroll cell %+v, want %+v (API %v)", filters, want.Value, c, want, r)
			}
		}
		return got
	}
	// storetest.ScrollEvents' answers: /a 45 %, /b 100 %; from FR, /a 20 %
	// and /b none.
	if all := check(""); all["/a"].Text != "45%" || all["/b"].Text != "100%" {
		t.Errorf("scroll cells %v, want /a 45%% and /b 100%%", all)
	}
	if fr := check("country==FR"); fr["/a"].Text != "20%" || fr["/b"].Text != "–" {
		t.Errorf("scroll cells from FR %v, want /a 20%% and /b none", fr)
	}
}
