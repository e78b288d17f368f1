package dashboard_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
	"github.com/footfall/footfall/web/auth"
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
	// A key's row shows the key's values (property=props:plan), as the API
	// counts them; a value's row filters by it; back lists the keys again.
	do(t, ctx, chromedp.Click(chromedp.CSS(`table[data-property=props] tr[data-value=plan]`)))
	waitJS(t, ctx, "the values of plan", `!!document.querySelector('table[data-property="props:plan"] tbody tr') && !document.querySelector('.table-body[aria-busy=true]')`)
	if pressed := eval[string](t, ctx, `document.querySelector('table[data-property="props:plan"]').closest('.card').querySelector('.tab[aria-pressed=true]').dataset.property`); pressed != "props" {
		t.Errorf("the pressed tab while showing a key's values is %q, want props", pressed)
	}
	values := eval[[][]cell](t, ctx, `[...document.querySelectorAll('table[data-property="props:plan"] tbody tr')].map(tr =>
		[...tr.querySelectorAll('[data-metric]')].map(td => ({value: tr.dataset.value, metric: td.dataset.metric, n: td.dataset.value, text: td.textContent})))`)
	var planAPI struct{ Results []map[string]any }
	s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day},
		"property": {"props:plan"}, "metrics": {"visitors,events"}, "limit": {"10"}}, &planAPI)
	if len(values) != len(planAPI.Results) || len(values) < 2 {
		t.Fatalf("plan's values %v, API %v: want the same rows, pro and free at least", values, planAPI.Results)
	}
	for i, r := range planAPI.Results {
		for _, c := range values[i] {
			if c.Value != r["props:plan"] || c.N != fmt.Sprint(r[c.Metric]) {
				t.Errorf("props:plan row %d: %+v, API %v", i, c, r)
			}
		}
	}
	if !eval[bool](t, ctx, `/tab\.\d+=props%3Aplan/.test(location.search)`) {
		t.Errorf("the URL %q does not keep the chosen key", eval[string](t, ctx, `location.search`))
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`table[data-property="props:plan"] tr[data-value=pro]`)))
	waitJS(t, ctx, "the property filter", `location.search.includes('filters=props%3Aplan%3D%3Dpro') && document.querySelectorAll('#filters .chip').length == 1`)
	if chip := eval[string](t, ctx, `document.querySelector('#filters .chip').textContent`); chip != "property plan is pro×" {
		t.Errorf("the filter chip reads %q", chip)
	}
	waitJS(t, ctx, "the filtered view", `!document.querySelector('.table-body[aria-busy=true]') && !!document.querySelector('table[data-property="props:plan"] tr[data-value=pro]')`)
	if free := eval[bool](t, ctx, `!!document.querySelector('table[data-property="props:plan"] tr[data-value=free]')`); free {
		// The fixture's one visit with plan=free has no event with pro.
		t.Errorf("under props:plan==pro the values still list free")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#props-back`)))
	waitJS(t, ctx, "the keys again", `!!document.querySelector('table[data-property=props] tbody tr') && !document.querySelector('.table-body[aria-busy=true]')`)
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(s, &f); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return f
}

// TestBrowserGoalsAdmin: an admin sees the site's goals (the built-in one
// and the config file's, which have no delete button), adds a goal in the
// dashboard, sees it counted with its revenue in the Goals card as the API
// answers, is told why a taken name is refused, and deletes the goal.
func TestBrowserGoalsAdmin(t *testing.T) {
	cfg := &config.Config{Sites: []config.Site{{Domain: "shop.example", Goals: []config.Goal{{Name: "Purchase", Event: "Purchase"}}}}}
	s := newServerWith(t, cfg, storetest.RevenueEvents)
	ctx := newBrowser(t)
	const day = "2026-03-02" // storetest.PropsDay
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=custom&from="+day+"&to="+day),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), s.fixture.Email(auth.RoleAdmin)),
		chromedp.SendKeys(chromedp.CSS(`#password`), s.fixture.Password+kb.Enter))
	waitJS(t, ctx, "the goals list", `!document.getElementById('goals-card').hidden && !!document.querySelector('#goals-admin tr[data-name=Purchase]')`)
	listed := func() map[string]string {
		t.Helper()
		return eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#goals-admin tbody tr')].map(tr =>
			[tr.dataset.name, tr.dataset.source + (tr.querySelector('button[data-delete]') ? ' deletable' : '')]))`)
	}
	if got, want := listed(), map[string]string{"404": "builtin", "Purchase": "config"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("goals listed %v, want %v", got, want)
	}
	// revenue reads the Goals card's revenue cells, by goal.
	revenue := func(goal string) []map[string]string {
		t.Helper()
		do(t, ctx, chromedp.Click(chromedp.CSS(`.tab[data-property=goal]`)))
		row := `document.querySelector('table[data-property=goal] tr[data-value="` + goal + `"]')`
		waitJS(t, ctx, "the goal "+goal, `!!`+row+` && !document.querySelector('.table-body[aria-busy=true]')`)
		return eval[[]map[string]string](t, ctx, `[...`+row+`.querySelectorAll('.money')].map(m => ({currency: m.dataset.currency, total: m.dataset.total, average: m.dataset.average}))`)
	}
	want := []map[string]string{{"currency": "EUR", "total": "30.0001", "average": "10.00"}, {"currency": "USD", "total": "5.00", "average": "5.00"}}
	if got := revenue("Purchase"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Purchase's revenue shown %v, want %v (storetest.RevenueEvents)", got, want)
	}

	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#goal-name`), "Big buy"),
		chromedp.SetValue(chromedp.CSS(`#goal-kind`), "event"),
		chromedp.SendKeys(chromedp.CSS(`#goal-what`), "Buy"),
		chromedp.Click(chromedp.CSS(`#goal-create`)))
	waitJS(t, ctx, "the new goal listed", `!!document.querySelector('#goals-admin tr[data-name="Big buy"][data-source=api] button[data-delete]')`)
	if got := revenue("Big buy"); fmt.Sprint(got) != fmt.Sprint([]map[string]string{{"currency": "JPY", "total": "100.00", "average": "100.00"}}) {
		t.Errorf("Big buy's revenue shown %v, want 100.00 JPY", got)
	}
	var api struct{ Results []map[string]any }
	cookie := sessionCookie(t, ctx, s)
	s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day},
		"property": {"goal"}, "metrics": {"visitors"}}, &api)
	if len(api.Results) != 3 {
		t.Errorf("the API's goals %v, want 404, Purchase and Big buy", api.Results)
	}

	// The config file's name is taken: the form says so.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#goal-name`), "Purchase"),
		chromedp.SendKeys(chromedp.CSS(`#goal-what`), "Checkout"),
		chromedp.Click(chromedp.CSS(`#goal-create`)))
	waitJS(t, ctx, "the refusal", `document.getElementById('goal-error').textContent.includes('has a goal named')`)

	do(t, ctx, chromedp.Click(chromedp.CSS(`#goals-admin tr[data-name="Big buy"] button[data-delete]`)))
	waitJS(t, ctx, "the confirmation", `document.querySelector('#goals-admin tr[data-name="Big buy"] button[data-delete]').textContent == 'Really delete'`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#goals-admin tr[data-name="Big buy"] button[data-delete]`)))
	waitJS(t, ctx, "the goal gone", `!!document.querySelector('#goals-admin tr[data-name=Purchase]') && !document.querySelector('#goals-admin tr[data-name="Big buy"]')`)
	screenshot(t, ctx, "dashboard-goals-admin.png")
	api.Results = nil
	s.getJSON(t, cookie, "/api/v1/stats/breakdown", url.Values{"site": {s.site}, "period": {"custom"}, "from": {day}, "to": {day},
		"property": {"goal"}, "metrics": {"visitors"}}, &api)
	if len(api.Results) != 2 {
		t.Errorf("the API's goals after the delete %v, want 404 and Purchase", api.Results)
	}
}
