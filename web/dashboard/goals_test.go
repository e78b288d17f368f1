package dashboard_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
)

// The Goals card (goals and broken URLs) and the Properties tab show what the breakdown API
// answers for property=goal, not_found and props, and a property key's row
// filters by it.
func TestBrowserGoals(t *testing.T) {
	cfg := &config.Config{Sites: []config.Site{{Domain: "shop.example", Goals: []config.Goal{
		{Name: "Signup", Event: "Signup"},
		{Name: "Pro signup", Event: "Signup", Props: map[string]string{"plan": "pro"}},
		{Name: "Never", Event: "Nope"},
	}}}}
	s := newServerWith(t, cfg, func(site uint32) []store.Event {
		events := storetest.PropsEvents(site)
		return append(events, storetest.NotFoundEvent(events)...)
	})
	ctx := newBrowser(t)
	// The day of the props fixture alone: its raw events are all the
	// goals and properties read.
	const day = "2026-03-02"
	cookie := signIn(t, ctx, s, "/?site="+s.site+"&period=30d")
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=custom&from="+day+"&to="+day))
	waitJS(t, ctx, "the day's tables", `!!document.querySelector('.tab[data-property=goal]') && !document.querySelector('.table-body[aria-busy=true]')`)

	type cell struct {
		Value  string `json:"value"`
		Metric string `json:"metric"`
		N      string `json:"n"`
		Text   string `json:"text"`
	}
	table := func(prop string) [][]cell {
		t.Helper()
		do(t, ctx, chromedp.Click(chromedp.CSS(`.tab[data-property=`+prop+`]`)))
		// The table, or what the card says instead.
		card := `document.querySelector('.card .tab[aria-pressed=true][data-property=` + prop + `]')?.closest('.card')`
		waitJS(t, ctx, "the "+prop+" card", `!!`+card+` && !`+card+`.querySelector('[aria-busy=true]')`)
		if !eval[bool](t, ctx, `!!document.querySelector('table[data-property=`+prop+`] tbody tr')`) {
			t.Fatalf("the %s card shows no rows: %q", prop, eval[string](t, ctx, card+`.textContent`))
		}
		return eval[[][]cell](t, ctx, `[...document.querySelectorAll('table[data-property=`+prop+`] tbody tr')].map(tr =>
			[...tr.querySelectorAll('[data-metric]')].map(td => ({value: tr.dataset.value, metric: td.dataset.metric, n: td.dataset.value, text: td.textContent})))`)
	}
	check := func(prop, metrics string) [][]cell {
		t.Helper()
		rows := table(prop)
		var api struct{ Results []map[string]any }
		s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day},
			"property": {prop}, "metrics": {metrics}, "limit": {"10"}}, &api)
		if len(rows) != len(api.Results) {
			t.Fatalf("%s: %d rows, API %d: %v", prop, len(rows), len(api.Results), api.Results)
		}
		for i, r := range api.Results {
			for _, c := range rows[i] {
				if c.Value != r[prop] || c.N != fmt.Sprint(r[c.Metric]) {
					t.Errorf("%s row %d: %+v, API %v", prop, i, c, r)
				}
			}
		}
		return rows
	}
	goals := check("goal", "visitors,visits,conversion_rate")
	byName := map[string][]cell{}
	for _, r := range goals {
		byName[r[0].Value] = r
	}
	if len(goals) != 4 || byName["Never"] == nil || byName["404"] == nil || byName["Signup"][0].N == "0" {
		t.Errorf("goals %v: want Signup reached, Never and the built-in 404 listed with zeros", goals)
	}
	if rate := byName["Signup"][2]; rate.Metric != "conversion_rate" || rate.Text != fmt.Sprintf("%.1f%%", mustFloat(t, rate.N)) {
		t.Errorf("Signup's conversion rate cell %+v, want the rate with one decimal and %%", rate)
	}
	if broken := check("not_found", "visitors,events"); len(broken) != 1 || broken[0][0].Value != "/docs" {
		t.Errorf("broken URLs %v, want /docs", broken)
	}
	props := check("props", "visitors,events")
	if len(props) != 2 {
		t.Errorf("property keys %v, want color and plan", props)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`table[data-property=props] tr[data-value=plan]`)))
	waitJS(t, ctx, "the property filter", `location.search.includes('filters=props%3D%3Dplan') && document.querySelectorAll('#filters .chip').length == 1`)
	waitJS(t, ctx, "the filtered view", `!document.querySelector('.table-body[aria-busy=true]') && !!document.querySelector('table[data-property=props] tr[data-value=plan]')`)
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}
