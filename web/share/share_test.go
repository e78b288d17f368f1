package share_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/share"
)

// data is the answer of GET /api/share/v1/{link}.
type data struct {
	Site        string    `json:"site"`
	Name        string    `json:"name"`
	Period      string    `json:"period"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	K           int       `json:"k"`
	Noise       string    `json:"noise"`
	Metrics     []string  `json:"metrics"`
	Tables      []struct {
		Dimension string           `json:"dimension"`
		Rows      []map[string]any `json:"rows"`
	} `json:"tables"`
	Previous *struct{ From, To string } `json:"previous"`
	Next     *struct{ From, To string } `json:"next"`
}

// apiPath is the data route of a link's page path.
func apiPath(page string) string { return "/api/share/v1/" + strings.TrimPrefix(page, "/share/") }

// TestShareLink: a link shows exactly aggregator.NewRelease's release of
// the site for the last finished week (the /tiny cell suppressed), the same
// release on every view; it is listed, revoked (410), and never logged.
func TestShareLink(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		c, page := e.create(t, `{"site": "shop.example", "name": "board"}`)
		if c.Link.Site != "shop.example" || c.Link.Name != "board" || c.Link.Embed || c.Link.Password || c.Link.State != "active" || c.Iframe != "" {
			t.Errorf("created: %+v", c)
		}

		rec := e.call(t, http.MethodGet, page, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<title>") {
			t.Fatalf("page: %d %s", rec.Code, rec.Body)
		}
		for h, want := range map[string]string{
			"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
		} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("page %s: %q, want %q", h, got, want)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'none'") {
			t.Errorf("page CSP %q: want frame-ancestors 'none'", csp)
		}

		rec = e.call(t, http.MethodGet, apiPath(page), "")
		if rec.Code != http.StatusOK {
			t.Fatalf("data: %d %s", rec.Code, rec.Body)
		}
		var got data
		decode(t, rec.Body, &got)
		if got.Site != "shop.example" || got.Period != "week" || got.From != "2026-03-09" || got.To != "2026-03-15" || got.K != config.DefaultK || got.Noise != "none" {
			t.Errorf("data: %+v", got)
		}
		if got.Previous == nil || got.Previous.From != "2026-03-02" || got.Next != nil {
			t.Errorf("previous %+v, next %+v: want the week of 2026-03-02 and none", got.Previous, got.Next)
		}
		want, err := aggregator.NewRelease(context.Background(), e.st, aggregator.ReleaseRequest{
			Partner: e.cfg.ShareRelease("shop.example"), From: weekFrom, To: weekTo, Now: e.clock.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantTables := map[string][]map[string]any{}
		for _, tb := range want.Tables {
			rows := []map[string]any{}
			for _, r := range tb.Rows {
				row := map[string]any{"day": r.Day, "value": r.Value}
				for i, m := range want.Params.Metrics {
					row[m] = float64(r.Metrics[i])
				}
				rows = append(rows, row)
			}
			wantTables[tb.Dimension] = rows
		}
		gotTables := map[string][]map[string]any{}
		for _, tb := range got.Tables {
			gotTables[tb.Dimension] = tb.Rows
		}
		if diff := cmp.Diff(wantTables, gotTables); diff != "" {
			t.Errorf("tables (-NewRelease +served):\n%s", diff)
		}
		pages := fmt.Sprint(gotTables["page"])
		if !strings.Contains(pages, "/popular") || strings.Contains(pages, "/tiny") || strings.Contains(pages, "(other)") {
			t.Errorf("page table %s: want /popular alone (/tiny and its (other) under k)", pages)
		}
		if total := gotTables["total"]; len(total) != 1 || total[0]["visitors"] != float64(popularVisitors+tinyVisitors) {
			t.Errorf("total table %v: want one day of %d visitors", total, popularVisitors+tinyVisitors)
		}

		// Viewed again, from another link of the site, later, and through
		// another replica (a second handler on the same store): the stored
		// release.
		e.clock.Add(time.Hour)
		_, page2 := e.create(t, `{"site": "shop.example"}`)
		replica, err := share.New(share.Options{Store: e.st, Config: e.cfg, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		other := server.New(server.Options{Share: replica, Store: e.st})
		for name, h := range map[string]http.Handler{"this replica": e.handler, "another replica": other} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, apiPath(page2), nil))
			var again data
			decode(t, rec.Body, &again)
			if !again.GeneratedAt.Equal(got.GeneratedAt) || !cmp.Equal(again.Tables, got.Tables) {
				t.Errorf("second view, %s: generated %v, want the stored release of %v", name, again.GeneratedAt, got.GeneratedAt)
			}
		}

		// Listed, then revoked: 410 on the page and the API.
		var list struct{ Links []share.Link }
		decode(t, e.admin(t, http.MethodGet, "/api/v1/admin/shares?site=shop.example", "").Body, &list)
		if len(list.Links) != 2 || list.Links[0].ID != c.Link.ID {
			t.Errorf("list: %+v", list.Links)
		}
		e.clock.Add(time.Minute)
		rec = e.admin(t, http.MethodDelete, "/api/v1/admin/shares/"+c.Link.ID, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"state":"revoked"`) {
			t.Errorf("revoke: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "data of a revoked link", e.call(t, http.MethodGet, apiPath(page), ""), http.StatusGone)
		if rec := e.call(t, http.MethodGet, page, ""); rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), `<p id="gone">this share link was revoked.</p>`) ||
			rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("page of a revoked link: %d %s, want 410 and a page that says so", rec.Code, rec.Body)
		}
		wantError(t, "revoking an unknown link", e.admin(t, http.MethodDelete, "/api/v1/admin/shares/00000000000000aa", ""), http.StatusNotFound)
		if rec := e.call(t, http.MethodGet, apiPath(page2), ""); rec.Code != http.StatusOK {
			t.Errorf("the other link after revoking the first: %d", rec.Code)
		}

		// The audit log has the creations, the views (at most hourly per
		// link and process: the replica records its own) and the revocation.
		entries, err := e.st.AuditLog(context.Background(), start.Add(-time.Hour), start.Add(24*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range entries {
			if strings.HasPrefix(a.Target, "share:") {
				actions = append(actions, a.Action)
			}
		}
		if diff := cmp.Diff([]string{"share_create", "share_view", "share_create", "share_view", "share_view", "share_revoke"}, actions); diff != "" {
			t.Errorf("audit actions (-want +got):\n%s", diff)
		}
		secret := strings.TrimPrefix(page, "/share/")
		for _, a := range entries {
			if strings.Contains(a.Detail+a.Target+a.Actor, secret[len(secret)-52:]) {
				t.Errorf("audit entry holds the link's secret: %+v", a)
			}
		}
		if strings.Contains(e.logs.String(), secret[len(secret)-52:]) {
			t.Errorf("logs hold the link's secret:\n%s", e.logs)
		}
	})
}

// TestShareLinkRefusals: what is not a live link is a 404 or 410 with a
// JSON error, and bad parameters a 400.
func TestShareLinkRefusals(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	_, page := e.create(t, `{"site": "shop.example"}`)
	_, expiring := e.create(t, `{"site": "shop.example", "expires_days": 1}`)
	link := strings.TrimPrefix(page, "/share/")
	wrongSecret := link[:len(link)-1] + map[bool]string{true: "b", false: "a"}[strings.HasSuffix(link, "a")]
	for _, tt := range []struct {
		name, path string
		code       int
	}{
		{"malformed link", "/api/share/v1/ffs_nope", http.StatusNotFound},
		{"unknown id", "/api/share/v1/ffs_00000000000000aa_" + strings.Repeat("a", 52), http.StatusNotFound},
		{"wrong secret", "/api/share/v1/" + wrongSecret, http.StatusNotFound},
		{"unknown parameter", apiPath(page) + "?site=other.example", http.StatusBadRequest},
		{"unknown period", apiPath(page) + "?period=day", http.StatusBadRequest},
		{"unfinished week", apiPath(page) + "?date=2026-03-17", http.StatusBadRequest},
		{"too far back", apiPath(page) + "?date=2024-01-01", http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.name, e.call(t, http.MethodGet, tt.path, ""), tt.code) })
	}
	if rec := e.call(t, http.MethodGet, apiPath(page)+"?period=month&date=2026-02-10", ""); rec.Code != http.StatusOK ||
		!strings.Contains(rec.Body.String(), `"from":"2026-02-01"`) || !strings.Contains(rec.Body.String(), `"to":"2026-02-28"`) {
		t.Errorf("February: %d %s", rec.Code, rec.Body)
	}
	if rec := e.call(t, http.MethodGet, apiPath(expiring), ""); rec.Code != http.StatusOK {
		t.Errorf("expiring link before it expires: %d %s", rec.Code, rec.Body)
	}
	e.clock.Add(24 * time.Hour)
	wantError(t, "expired link", e.call(t, http.MethodGet, apiPath(expiring), ""), http.StatusGone)
	for path, code := range map[string]int{expiring: http.StatusGone, "/share/" + wrongSecret: http.StatusNotFound, "/share/ffs_nope": http.StatusNotFound} {
		if rec := e.call(t, http.MethodGet, path, ""); rec.Code != code || !strings.Contains(rec.Body.String(), `<p id="gone">`) {
			t.Errorf("page %s: %d %s, want %d and a page", path, rec.Code, rec.Body, code)
		}
	}
}

// TestShareLinkPassword: a link with a password answers 401 until a right
// password gives a view key; attempts are limited per client and link.
func TestShareLinkPassword(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	const password = "violet tractor mumbles quietly"
	c, page := e.create(t, `{"site": "shop.example", "password": "`+password+`"}`)
	if !c.Link.Password {
		t.Errorf("created: %+v, want password true", c.Link)
	}
	wantError(t, "weak password", e.admin(t, http.MethodPost, "/api/v1/admin/shares", `{"site": "shop.example", "password": "password123"}`), http.StatusBadRequest)
	_, open := e.create(t, `{"site": "shop.example"}`)

	api := apiPath(page)
	wantError(t, "no key", e.call(t, http.MethodGet, api, ""), http.StatusUnauthorized)
	if rec := e.call(t, http.MethodGet, page, ""); rec.Code != http.StatusOK {
		t.Errorf("the page itself (it asks for the password): %d", rec.Code)
	}
	wantError(t, "wrong password", e.call(t, http.MethodPost, api+"/unlock", `{"password": "violet tractor mumbles loudly"}`), http.StatusUnauthorized)
	wantError(t, "no password", e.call(t, http.MethodPost, api+"/unlock", `{}`), http.StatusBadRequest)
	wantError(t, "unlocking a link without a password", e.call(t, http.MethodPost, apiPath(open)+"/unlock", `{"password": "x"}`), http.StatusBadRequest)

	rec := e.call(t, http.MethodPost, api+"/unlock", `{"password": "`+password+`"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("right password: %d %s", rec.Code, rec.Body)
	}
	var unlocked struct {
		Key     string    `json:"key"`
		Expires time.Time `json:"expires"`
	}
	decode(t, rec.Body, &unlocked)
	if rec := e.call(t, http.MethodGet, api, "", share.KeyHeader, unlocked.Key); rec.Code != http.StatusOK {
		t.Errorf("with the key: %d %s", rec.Code, rec.Body)
	}
	exp, mac, _ := strings.Cut(unlocked.Key, ".")
	for name, key := range map[string]string{
		"tampered key":            exp + "." + strings.Repeat("0", len(mac)),
		"key with a later expiry": fmt.Sprint(e.clock.Now().Add(24*time.Hour).Unix()) + "." + mac,
		"key without expiry":      mac,
	} {
		wantError(t, name, e.call(t, http.MethodGet, api, "", share.KeyHeader, key), http.StatusUnauthorized)
	}

	// Five attempts from one client (two were made above), then 429 even
	// for the right password; another client is not affected.
	for i := range 3 {
		wantError(t, fmt.Sprint("wrong password ", i), e.call(t, http.MethodPost, api+"/unlock", `{"password": "wrong wrong wrong wrong"}`), http.StatusUnauthorized)
	}
	rec = e.call(t, http.MethodPost, api+"/unlock", `{"password": "`+password+`"}`)
	wantError(t, "sixth attempt", rec, http.StatusTooManyRequests)
	if rec.Header().Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	req := `{"password": "` + password + `"}`
	if rec := e.call(t, http.MethodPost, api+"/unlock", req, "X-Forwarded-For", "198.51.100.7"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("X-Forwarded-For from a peer that is no trusted proxy: %d, want 429 (the header ignored)", rec.Code)
	}
	other := e.callFrom(t, "198.51.100.7:5000", http.MethodPost, api+"/unlock", req)
	if other.Code != http.StatusOK {
		t.Errorf("another client: %d %s", other.Code, other.Body)
	}
	e.clock.Add(13 * time.Hour)
	wantError(t, "expired key", e.call(t, http.MethodGet, api, "", share.KeyHeader, unlocked.Key), http.StatusUnauthorized)
	if strings.Contains(e.logs.String(), password) {
		t.Errorf("logs hold the password")
	}
}

// TestShareLinkEmbed: an embed link may be framed by its origins only; a
// link's origins must be origins.
func TestShareLinkEmbed(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	c, page := e.create(t, `{"site": "shop.example", "embed": true, "frame_ancestors": ["https://Blog.example.com", "http://127.0.0.1:8081/"]}`)
	if diff := cmp.Diff([]string{"https://blog.example.com", "http://127.0.0.1:8081"}, c.Link.FrameAncestors); diff != "" {
		t.Errorf("frame_ancestors (-want +got):\n%s", diff)
	}
	if !strings.Contains(c.Iframe, `src="https://stats.example/share/ffs_`) {
		t.Errorf("iframe %q", c.Iframe)
	}
	rec := e.call(t, http.MethodGet, page, "")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors https://blog.example.com http://127.0.0.1:8081") {
		t.Errorf("CSP %q", csp)
	}
	if xfo := rec.Header().Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q on an embed link", xfo)
	}
	for _, body := range []string{
		`{"site": "shop.example", "embed": true}`,
		`{"site": "shop.example", "embed": true, "frame_ancestors": ["https://x.example; script-src *"]}`,
		`{"site": "shop.example", "embed": true, "frame_ancestors": ["javascript:alert(1)"]}`,
		`{"site": "shop.example", "embed": true, "frame_ancestors": ["https://x.example/page"]}`,
		`{"site": "shop.example", "embed": true, "frame_ancestors": ["*"]}`,
		`{"site": "shop.example", "frame_ancestors": ["https://x.example"]}`,
		`{"site": "shop.example", "expires_days": -1}`,
		`{"site": "shop.example", "colour": "red"}`,
		`{"site": "nowhere.example"}`,
	} {
		if rec := e.admin(t, http.MethodPost, "/api/v1/admin/shares", body); rec.Code != http.StatusBadRequest && rec.Code != http.StatusNotFound {
			t.Errorf("create %s: %d %s, want 400 or 404", body, rec.Code, rec.Body)
		}
	}
}

// TestShareLinkBudget: with epsilon, every new window costs it once, a
// window seen again costs nothing, and a spent budget is a 429.
func TestShareLinkBudget(t *testing.T) {
	cfg, err := config.Parse([]byte("sites:\n  - domain: shop.example\n    share: {epsilon: 1, epsilon_budget: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, openSQLite(t), cfg)
	_, page := e.create(t, `{"site": "shop.example"}`)
	api := apiPath(page)
	var first data
	decode(t, e.call(t, http.MethodGet, api, "").Body, &first)
	if first.Noise != "laplace" {
		t.Errorf("noise %q", first.Noise)
	}
	for i := range 5 {
		var again data
		decode(t, e.call(t, http.MethodGet, api, "").Body, &again)
		if !cmp.Equal(first.Tables, again.Tables) {
			t.Fatalf("view %d: other numbers than the first (noise drawn again)", i+2)
		}
	}
	if rec := e.call(t, http.MethodGet, api+"?date=2026-03-02", ""); rec.Code != http.StatusOK {
		t.Fatalf("second window: %d %s", rec.Code, rec.Body)
	}
	rec := e.call(t, http.MethodGet, api+"?date=2026-02-23", "")
	wantError(t, "third window", rec, http.StatusTooManyRequests)
	if !strings.Contains(rec.Body.String(), "privacy budget") || rec.Header().Get("Retry-After") == "" {
		t.Errorf("third window: %s, Retry-After %q", rec.Body, rec.Header().Get("Retry-After"))
	}
	if rec := e.call(t, http.MethodGet, api+"?date=2026-03-09", ""); rec.Code != http.StatusOK {
		t.Errorf("the first window again: %d", rec.Code)
	}
}

// TestAdminRoutes: only admins manage links, and a scoped admin only its
// sites' links.
func TestAdminRoutes(t *testing.T) {
	e := newEnv(t, openSQLite(t), nil)
	c, _ := e.create(t, `{"site": "shop.example"}`)
	e.auth.Check(t, e.handler, []authtest.Route{
		{Method: http.MethodGet, Path: "/api/v1/admin/shares", Roles: []auth.Role{auth.RoleAdmin}},
		{Method: http.MethodGet, Path: "/api/v1/admin/shares?site=shop.example", Roles: []auth.Role{auth.RoleAdmin}, Site: e.site.ID},
		{Method: http.MethodPost, Path: "/api/v1/admin/shares", Body: `{"site": "shop.example"}`, ContentType: "application/json",
			Roles: []auth.Role{auth.RoleAdmin}, Site: e.site.ID},
		{Method: http.MethodDelete, Path: "/api/v1/admin/shares/" + c.Link.ID, Roles: []auth.Role{auth.RoleAdmin}, Site: e.site.ID},
	})
	// An admin of other.example does not see shop.example's links.
	tok := e.auth.NewToken(t, auth.RoleAdmin, e.other.ID)
	rec := e.call(t, http.MethodGet, "/api/v1/admin/shares", "", "Authorization", "Bearer "+tok)
	var list struct{ Links []share.Link }
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.Code != http.StatusOK || len(list.Links) != 0 {
		t.Errorf("scoped list: %d %s", rec.Code, rec.Body)
	}
}
