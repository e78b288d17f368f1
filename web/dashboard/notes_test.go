package dashboard_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/footfall/footfall/web/auth"
)

// signIn signs in as an analyst at path and returns the session cookie.
func signIn(t *testing.T, ctx context.Context, s *testServer, path string) string {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.URL+path),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), s.fixture.Email(auth.RoleAnalyst)),
		chromedp.SendKeys(chromedp.CSS(`#password`), s.fixture.Password+kb.Enter))
	waitJS(t, ctx, "the dashboard", settled)
	return sessionCookie(t, ctx, s)
}

// sessionCookie is the browser's session cookie for s.
func sessionCookie(t *testing.T, ctx context.Context, s *testServer) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == auth.CookieName {
			return c.Value
		}
	}
	t.Fatal("no session cookie after sign-in")
	return ""
}

// An analyst adds an annotation, sees it on the chart and removes it; saves
// the filters as a segment, sees the segment's figures, and deletes it.
func TestBrowserNotes(t *testing.T) {
	s := newServer(t)
	ctx := newBrowser(t)
	cookie := signIn(t, ctx, s, "/?site="+s.site+"&period=7d")
	site, err := s.st.SiteByDomain(context.Background(), s.site)
	if err != nil {
		t.Fatal(err)
	}

	// An annotation two days before day 0, added through the form.
	day := day0.AddDate(0, 0, -2).Format("2006-01-02")
	eval[bool](t, ctx, `(document.getElementById('note-date').value = '`+day+`', true)`)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#note-text`), "Spring campaign"), chromedp.Click(chromedp.CSS(`#note-save`)))
	mark := `document.querySelector('#chart svg .note[data-date="` + day + `"]')`
	waitJS(t, ctx, "the annotation on the chart", `!!`+mark)
	if title := eval[string](t, ctx, mark+`.querySelector('title').textContent`); title != day+": Spring campaign" {
		t.Errorf("the mark's title %q, want %q", title, day+": Spring campaign")
	}
	// At the point of its day: the mark's x is the x of that day's point.
	if got := eval[int](t, ctx, `(() => {
		const rows = [...document.querySelectorAll('#chart table tbody tr th')].map(th => th.textContent)
		const pts = document.querySelector('#chart polyline').getAttribute('points').trim().split(/\s+/).map(p => Number(p.split(',')[0]))
		const x = Number(`+mark+`.querySelector('line').getAttribute('x1'))
		return pts.findIndex(p => Math.abs(p - x) < 0.5) - (rows.length - 1)
	})()`); got != -2 {
		t.Errorf("the mark stands at point %d from the last, want -2", got)
	}
	notes, err := s.st.Annotations(context.Background(), site.ID)
	if err != nil || len(notes) != 1 || notes[0].Text != "Spring campaign" || notes[0].Day != day || notes[0].Author != s.fixture.Email(auth.RoleAnalyst) {
		t.Fatalf("stored annotations %+v, %v", notes, err)
	}
	// It stays after a reload, and goes with its delete button.
	do(t, ctx, chromedp.Reload())
	waitJS(t, ctx, "the annotation after a reload", `!!`+mark)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#notes li[data-id="`+notes[0].ID+`"] button`)))
	waitJS(t, ctx, "the annotation gone", `!`+mark+` && document.querySelectorAll('#notes li').length == 0 && !!document.querySelector('#chart svg')`)
	if notes, _ := s.st.Annotations(context.Background(), site.ID); len(notes) != 0 {
		t.Errorf("stored annotations after the delete: %+v", notes)
	}

	// The filters saved as a segment: the view is the segment's, with the
	// same figures as the filters had.
	q := url.Values{"site": {s.site}, "period": {"7d"}, "filters": {"country==DE"}}
	do(t, ctx, chromedp.Navigate(s.URL+"/?"+q.Encode()))
	waitJS(t, ctx, "the filtered view", settled+` && !!document.getElementById('segment-name')`)
	filtered := s.aggregate(t, cookie, q)
	checkNumbers(t, ctx, filtered)
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#segment-name`), "Germany"), chromedp.Click(chromedp.CSS(`#segment-save`)))
	waitJS(t, ctx, "the segment chosen", `location.search.includes('segment=') && !location.search.includes('filters=') && document.getElementById('segment').selectedOptions[0].textContent == 'Germany'`)
	waitJS(t, ctx, "the segment's view", settled)
	segs, err := s.st.Segments(context.Background(), site.ID)
	if err != nil || len(segs) != 1 || segs[0].Filters != "country==DE" || segs[0].Name != "Germany" {
		t.Fatalf("stored segments %+v, %v", segs, err)
	}
	if !strings.Contains(eval[string](t, ctx, `location.search`), "segment="+segs[0].ID) {
		t.Errorf("the URL does not name the segment %s", segs[0].ID)
	}
	checkNumbers(t, ctx, filtered)
	all := s.aggregate(t, cookie, url.Values{"site": {s.site}, "period": {"7d"}})
	if all["visitors"] == filtered["visitors"] {
		t.Fatalf("the fixture's 7 days have as many visitors in DE as in all (%v): the test cannot tell the views apart", all["visitors"])
	}
	// Back to all visitors, then delete the segment.
	eval[bool](t, ctx, `(s => (s.value = '', s.dispatchEvent(new Event('change')), true))(document.getElementById('segment'))`)
	waitJS(t, ctx, "all visitors", `!location.search.includes('segment=')`)
	waitJS(t, ctx, "the unfiltered view", settled)
	checkNumbers(t, ctx, all)
	eval[bool](t, ctx, `(s => (s.value = '`+segs[0].ID+`', s.dispatchEvent(new Event('change')), true))(document.getElementById('segment'))`)
	waitJS(t, ctx, "the delete button", `!!document.getElementById('segment-delete')`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#segment-delete`)))
	waitJS(t, ctx, "the segment gone", `!location.search.includes('segment=') && document.getElementById('segment').options.length == 1`)
	if segs, _ := s.st.Segments(context.Background(), site.ID); len(segs) != 0 {
		t.Errorf("stored segments after the delete: %+v", segs)
	}
}
