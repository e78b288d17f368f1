package dashboard_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
)

// The funnel card shows what GET /api/v1/stats/funnel answers for the
// chosen funnel, under the page's filters; its menu switches funnels and
// keeps the choice in the URL.
func TestBrowserFunnels(t *testing.T) {
	cfg := &config.Config{Sites: []config.Site{{Domain: "shop.example",
		Goals: []config.Goal{{Name: "Home", Page: "/"}, {Name: "Pricing", Page: "/pricing"}, {Name: "Signup", Event: "Signup"}},
		Funnels: []config.Funnel{
			{Name: "Buy", Steps: []string{"Home", "Pricing", "Signup"}},
			{Name: "Pricing first", Steps: []string{"Pricing", "Home", "Signup"}},
		}}}}
	s := newServerWith(t, cfg, func(site uint32) []store.Event { return storetest.FunnelEvents(site) })
	ctx := newBrowser(t)
	const day = "2026-03-02"
	cookie := signIn(t, ctx, s, "/?site="+s.site+"&period=30d")

	type cell struct {
		Step   string `json:"step"`
		Goal   string `json:"goal"`
		Metric string `json:"metric"`
		N      string `json:"n"`
		Width  string `json:"width"`
	}
	// check compares the card's rows with the API's answer for funnel
	// under filters.
	check := func(funnel, filters string) {
		t.Helper()
		sel := `table.funnel[data-funnel="` + funnel + `"]`
		waitJS(t, ctx, "the funnel "+funnel, `!!document.querySelector('`+sel+` tbody tr') && !document.querySelector('#funnel[aria-busy=true]')`)
		rows := eval[[][]cell](t, ctx, `[...document.querySelectorAll('`+sel+` tbody tr')].map(tr =>
			[...tr.querySelectorAll('[data-metric]')].map(td => ({step: tr.dataset.step, goal: tr.dataset.goal, metric: td.dataset.metric,
				n: td.dataset.value, width: tr.querySelector('.bar').style.width})))`)
		q := url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day}, "funnel": {funnel}}
		if filters != "" {
			q.Set("filters", filters)
		}
		var api struct{ Results []map[string]any }
		if !s.getJSON(t, cookie, "/api/v1/stats/funnel", q, &api) {
			t.Fatalf("funnel %s: the API refused %v", funnel, q)
		}
		if len(rows) != len(api.Results) || len(rows) == 0 {
			t.Fatalf("funnel %s: %d rows, API %d: %v", funnel, len(rows), len(api.Results), api.Results)
		}
		for i, r := range api.Results {
			if len(rows[i]) != 4 {
				t.Fatalf("funnel %s step %d: cells %+v, want visitors, visits, dropoff, conversion_rate", funnel, i+1, rows[i])
			}
			for _, c := range rows[i] {
				if c.Step != fmt.Sprint(r["step"]) || c.Goal != r["goal"] || c.N != fmt.Sprint(r[c.Metric]) {
					t.Errorf("funnel %s step %d: %+v, API %v", funnel, i+1, c, r)
				}
			}
			// The bar is the step's share of step 1.
			if w := mustFloat(t, strings.TrimSuffix(rows[i][0].Width, "%")); w != r["conversion_rate"] {
				t.Errorf("funnel %s step %d: bar %q, want %v%%", funnel, i+1, rows[i][0].Width, r["conversion_rate"])
			}
		}
	}
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=custom&from="+day+"&to="+day))
	check("Buy", "")
	eval[bool](t, ctx, `(s => (s.value = 'Pricing first', s.dispatchEvent(new Event('change')), true))(document.querySelector('#funnel-select'))`)
	waitJS(t, ctx, "the funnel in the URL", `location.search.includes('funnel=Pricing+first')`)
	check("Pricing first", "")
	// Under a filter: the visits from DE only.
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=custom&from="+day+"&to="+day+"&funnel=Buy&filters=country%3D%3DDE"))
	check("Buy", "country==DE")
	eval[bool](t, ctx, `(document.getElementById('funnel-card').scrollIntoView(), true)`)
	screenshot(t, ctx, "dashboard-funnel.png")
	if csv := eval[string](t, ctx, `document.querySelector('#funnel-csv').getAttribute('href')`); csv == "" || !strings.Contains(csv, "format=csv") || !strings.Contains(csv, "funnel=Buy") {
		t.Errorf("funnel CSV link %q, want the funnel's CSV", csv)
	}
}
