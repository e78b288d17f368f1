package dashboard_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

func TestMain(m *testing.M) {
	os.Exit(chtest.Main(m))
}

// TestBrowserSampled serves the dashboard from ClickHouse in the sampled
// mode with a threshold of one raw event, so every period of several days
// reads its visit rows from a sample: the page shows the API's rate under
// the totals and on the breakdown cards, with the error in
// the tooltip, and the figures it shows are the API's sampled ones; the
// chart is marked as its timeseries is. A day,
// whose visitors come from its rollup row, is exact and shows no mark.
func TestBrowserSampled(t *testing.T) {
	st, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := newServerOn(t, st, nil, nil, 1)
	ctx := newBrowser(t)
	path := "/?site=" + s.site + "&period=7d"
	cookie := signIn(t, ctx, s, path)
	waitJS(t, ctx, "the dashboard", settled)

	var body struct {
		Sampled string
		Results map[string]struct{ Value float64 }
	}
	q := url.Values{"site": {s.site}, "period": {"7d"}, "metrics": {"visitors"}}
	if !s.getJSON(t, cookie, "/api/v1/stats/aggregate", q, &body) {
		t.Fatal("the API refused the 7-day visitors")
	}
	if !strings.HasPrefix(body.Sampled, "1/") {
		t.Fatalf("the API's 7-day visitors are not sampled (sampled = %q): the test shows no mark", body.Sampled)
	}
	n := strings.TrimPrefix(body.Sampled, "1/")
	mark := `document.querySelector('#sampled')`
	waitJS(t, ctx, "the sampled mark", `!`+mark+`.hidden`)
	if got := eval[string](t, ctx, mark+`.dataset.sampled`); got != body.Sampled {
		t.Errorf("the mark says %q, the API %q", got, body.Sampled)
	}
	if text := eval[string](t, ctx, mark+`.textContent`); !strings.Contains(text, "1 visitor in "+n) {
		t.Errorf("the mark reads %q, want the rate 1 visitor in %s", text, n)
	}
	if title := eval[string](t, ctx, mark+`.title`); !strings.Contains(title, "√") || !strings.Contains(title, "multiplied by "+n) {
		t.Errorf("the mark's tooltip %q gives neither the scaling nor the error", title)
	}
	checkNumbers(t, ctx, map[string]float64{"visitors": body.Results["visitors"].Value})
	// The chart's daily points have their visitors from each day's rollup
	// row: marked only if the API's timeseries is sampled.
	var series struct{ Sampled string }
	if !s.getJSON(t, cookie, "/api/v1/stats/timeseries", url.Values{"site": {s.site}, "period": {"7d"}, "interval": {"day"}, "metrics": {"visitors,pageviews"}}, &series) {
		t.Fatal("the API refused the chart's timeseries")
	}
	if got := eval[string](t, ctx, `(document.querySelector('#chart .sampled') || {}).dataset?.sampled || ''`); got != series.Sampled {
		t.Errorf("the chart is marked %q, the API's timeseries %q", got, series.Sampled)
	}
	if cards := eval[float64](t, ctx, `document.querySelectorAll('#tables .sampled').length`); cards == 0 {
		t.Error("no breakdown card is marked sampled")
	}
	screenshot(t, ctx, "dashboard-sampled.png")

	// One day: exact, unmarked.
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=day"))
	waitJS(t, ctx, "the dashboard", settled)
	if hidden := eval[bool](t, ctx, mark+`.hidden`); !hidden {
		t.Errorf("one day's totals are marked sampled: %q", eval[string](t, ctx, mark+`.textContent`))
	}
	q.Set("period", "day")
	body.Sampled = ""
	if !s.getJSON(t, cookie, "/api/v1/stats/aggregate", q, &body) || body.Sampled != "" {
		t.Errorf("the API's one day: sampled = %q, want exact", body.Sampled)
	}
}
