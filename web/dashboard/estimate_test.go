package dashboard_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/footfall/footfall/store"
)

// Once retention has deleted the raw events and visit rows, the visitors
// of several days are estimated from the windows' sketches: the dashboard
// shows them with ≈ and the bound in the tooltip, and the figure is the
// API's.
func TestBrowserEstimate(t *testing.T) {
	s := newServer(t)
	ctx := newBrowser(t)
	path := "/?site=" + s.site + "&period=7d"
	cookie := signIn(t, ctx, s, path)
	visitors := `document.querySelector('#numbers .number[data-metric=visitors] .value')`
	if text := eval[string](t, ctx, visitors+`.textContent`); strings.Contains(text, "≈") {
		t.Errorf("before retention the visitors are shown as %q, an estimate", text)
	}

	if _, err := s.st.ApplyRetention(context.Background(), store.RetentionPlan{EventsBefore: day0.AddDate(0, 0, 2)}, false); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(s.URL+path))
	waitJS(t, ctx, "the dashboard", settled)
	waitJS(t, ctx, "the estimate's mark", `!!`+visitors+` && `+visitors+`.dataset.estimate === 'true'`)
	if text := eval[string](t, ctx, visitors+`.textContent`); !strings.HasPrefix(text, "≈ ") {
		t.Errorf("after retention the visitors are shown as %q, want ≈ before the figure", text)
	}
	if title := eval[string](t, ctx, visitors+`.title`); !strings.Contains(title, "3%") {
		t.Errorf("the estimate's tooltip %q does not give the bound", title)
	}
	api := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}, "metrics": {"visitors"}})
	if api["visitors"] == 0 {
		t.Fatal("the API has no visitors after retention")
	}
	checkNumbers(t, ctx, map[string]float64{"visitors": api["visitors"]})

	// Months: the chart's point of day 0's month is an estimate too.
	do(t, ctx, chromedp.Navigate(s.URL+"/?site="+s.site+"&period=12mo"))
	waitJS(t, ctx, "the dashboard", settled)
	eval[bool](t, ctx, `(() => {
		const svg = document.querySelector('#chart svg'), b = svg.getBoundingClientRect()
		svg.dispatchEvent(new MouseEvent('mousemove', { clientX: b.right - 2, clientY: b.top + b.height / 2 }))
		return true
	})()`)
	waitJS(t, ctx, "the chart's tip", `!document.querySelector('#chart .tip').hidden`)
	if tip := eval[string](t, ctx, `document.querySelector('#chart .tip .k.visitors').textContent`); !strings.HasPrefix(tip, "≈ ") {
		t.Errorf("the month's visitors in the chart's tip: %q, want ≈ before the figure", tip)
	}
	if label := eval[string](t, ctx, `document.querySelector('#chart svg').getAttribute('aria-label')`); !strings.Contains(label, "≈") {
		t.Errorf("the chart's label %q marks no estimate", label)
	}
}
