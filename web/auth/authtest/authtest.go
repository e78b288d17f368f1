// Package authtest helps test endpoints behind auth.Require: a Fixture
// holds a user and an API token of every role on a real store, and Check
// walks a table of routes × callers, asserting that the unauthenticated get
// 401, the wrong role and the wrong site (or, for a route over every site,
// any site scope) 403, a cookie-authenticated change
// without its CSRF token 403, and that a refusal carries no data.
//
// An API's tests list its routes and the roles each admits:
//
//	f := authtest.New(t, st, auth.Options{})
//	h := server.New(server.Options{Auth: f.Auth, …})
//	f.Check(t, h, []authtest.Route{
//		{Method: "GET", Path: "/api/v1/stats/aggregate?site=" + site, Roles: []auth.Role{auth.RoleAnalyst}, Site: siteID},
//		{Method: "GET", Path: "/api/partner/v1/aggregates", Roles: []auth.Role{auth.RolePartner}},
//	})
package authtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Store is what a Fixture needs of a store: what Auth reads, and adding
// users and tokens. Both backends satisfy it.
type Store interface {
	auth.Store
	AddUser(ctx context.Context, u store.User) error
	AddToken(ctx context.Context, t store.Token) error
	RevokeToken(ctx context.Context, id string, at time.Time) error
}

// Partner is the partner name of the fixture's partner user and token.
const Partner = "authtest-partner"

// Fixture is an Auth with one user and one token of every role, scoped to
// every site.
type Fixture struct {
	Auth *auth.Auth
	// Password is every fixture user's password.
	Password string

	store   Store
	emails  map[auth.Role]string
	tokens  map[auth.Role]string
	revoked string // a revoked token of role admin
}

// New adds the fixture's users and tokens to st and returns them with an
// Auth over st built from opts (whose Store it sets). Users' addresses are
// random, so several fixtures may share one database.
func New(t testing.TB, st Store, opts auth.Options) *Fixture {
	t.Helper()
	ctx := context.Background()
	opts.Store = st
	f := &Fixture{
		Auth:     auth.New(opts),
		Password: "correct horse battery staple",
		store:    st,
		emails:   map[auth.Role]string{},
		tokens:   map[auth.Role]string{},
	}
	tag := fmt.Sprintf("%08x", rand.Uint32())
	for _, role := range auth.Roles {
		spec := auth.UserSpec{Email: fmt.Sprintf("%s-%s@authtest.example", role, tag), Role: role}
		if role == auth.RolePartner {
			spec.Partner = Partner
		}
		u, err := auth.NewUser(spec, f.Password, time.Now())
		if err != nil {
			t.Fatalf("authtest: new %s user: %v", role, err)
		}
		if err := st.AddUser(ctx, u); err != nil {
			t.Fatalf("authtest: add %s user: %v", role, err)
		}
		f.emails[role] = u.Email
		f.tokens[role] = f.NewToken(t, role)
	}
	f.revoked = f.NewToken(t, auth.RoleAdmin)
	id := strings.Split(f.revoked, "_")[1]
	if err := st.RevokeToken(ctx, id, time.Now()); err != nil {
		t.Fatalf("authtest: revoke token: %v", err)
	}
	return f
}

// Email is the address of the fixture's user of role.
func (f *Fixture) Email(role auth.Role) string { return f.emails[role] }

// Token is the fixture's API token of role, for every site.
func (f *Fixture) Token(role auth.Role) string { return f.tokens[role] }

// NewToken adds an API token of role limited to sites (none: every site)
// and returns it.
func (f *Fixture) NewToken(t testing.TB, role auth.Role, sites ...uint32) string {
	t.Helper()
	spec := auth.TokenSpec{Role: role, Sites: sites, Name: "authtest"}
	if role == auth.RolePartner {
		spec.Partner = Partner
	}
	tok, secret, err := auth.NewToken(spec, time.Now())
	if err != nil {
		t.Fatalf("authtest: new %s token: %v", role, err)
	}
	if err := f.store.AddToken(context.Background(), tok); err != nil {
		t.Fatalf("authtest: add %s token: %v", role, err)
	}
	return secret
}

// Session is a signed-in user's cookie and CSRF token.
type Session struct {
	Cookie *http.Cookie
	CSRF   string
}

// Login signs in the fixture's user of role through the login handler.
func (f *Fixture) Login(t testing.TB, role auth.Role) Session {
	t.Helper()
	form := url.Values{"email": {f.emails[role]}, "password": {f.Password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	httpapi.Handle(nil, f.Auth.HandleLogin).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("authtest: login as %s: %d %s", role, rec.Code, rec.Body)
	}
	var answer struct {
		CSRF string `json:"csrf"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.CSRF == "" {
		t.Fatalf("authtest: login as %s: answer %s (%v)", role, rec.Body, err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.CookieName {
			return Session{Cookie: c, CSRF: answer.CSRF}
		}
	}
	t.Fatalf("authtest: login as %s set no %s cookie", role, auth.CookieName)
	return Session{}
}

// Route is one endpoint in the matrix.
type Route struct {
	Method string
	// Path, with its query string.
	Path string
	// Body and ContentType are sent with every request, if set.
	Body        string
	ContentType string
	// Roles admit a caller (admin is admitted where analyst is). None: any
	// authenticated caller.
	Roles []auth.Role
	// Site, if not 0, is the site the request reads: a caller of an
	// admitted role scoped to another site must get 403, one scoped to
	// Site must not.
	Site uint32
	// AllSites marks a route that acts on every site: a caller of an
	// admitted role scoped to any list of sites must get 403.
	AllSites bool
}

func (r Route) String() string { return r.Method + " " + r.Path }

// caller is one way of calling a route.
type caller struct {
	name string
	// set adds the credentials to a request.
	set func(*http.Request)
	// want is the status the caller must get: 401, 403, or 0 for "let
	// through" (anything but 401 and 403).
	want int
}

// Check calls every route as every caller and checks the answers: 401 for
// no, malformed, unknown or revoked credentials; 403 for a role the route
// does not admit, for a site out of scope (any scope, for Route.AllSites), and for a session's change
// without its CSRF token; anything but 401 and 403 for the rest. A 401 or
// 403 must be a JSON {"error": …} and nothing else.
func (f *Fixture) Check(t *testing.T, h http.Handler, routes []Route) {
	t.Helper()
	sessions := map[auth.Role]Session{}
	for _, role := range auth.Roles {
		sessions[role] = f.Login(t, role)
	}
	for _, rt := range routes {
		t.Run(rt.String(), func(t *testing.T) {
			for _, c := range f.callers(t, rt, sessions) {
				t.Run(c.name, func(t *testing.T) {
					req := httptest.NewRequest(rt.Method, rt.Path, strings.NewReader(rt.Body))
					if rt.ContentType != "" {
						req.Header.Set("Content-Type", rt.ContentType)
					}
					c.set(req)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					checkAnswer(t, rec, c.want)
				})
			}
		})
	}
}

func (f *Fixture) callers(t *testing.T, rt Route, sessions map[auth.Role]Session) []caller {
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	cookie := func(s Session, csrf string) func(*http.Request) {
		return func(r *http.Request) {
			r.AddCookie(s.Cookie)
			if csrf != "" {
				r.Header.Set("X-CSRF-Token", csrf)
			}
		}
	}
	// A token of the right shape that was never issued.
	unknown := "ff_" + strings.Repeat("0", 16) + "_" + strings.Repeat("a", 52)
	out := []caller{
		{"anonymous", func(*http.Request) {}, http.StatusUnauthorized},
		{"malformed bearer", bearer("not-a-token"), http.StatusUnauthorized},
		{"basic auth", func(r *http.Request) { r.SetBasicAuth("admin", "admin") }, http.StatusUnauthorized},
		{"unknown token", bearer(unknown), http.StatusUnauthorized},
		{"revoked token", bearer(f.revoked), http.StatusUnauthorized},
		{"forged cookie", func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: strings.Repeat("A", 43)})
		}, http.StatusUnauthorized},
	}
	unsafe := rt.Method != http.MethodGet && rt.Method != http.MethodHead && rt.Method != http.MethodOptions
	for _, role := range auth.Roles {
		admitted := len(rt.Roles) == 0 || (auth.Principal{Role: role}).HasRole(rt.Roles...)
		want := http.StatusForbidden
		if admitted {
			want = 0
		}
		out = append(out, caller{string(role) + " token", bearer(f.tokens[role]), want})
		s := sessions[role]
		if unsafe {
			out = append(out,
				caller{string(role) + " session without CSRF token", cookie(s, ""), http.StatusForbidden},
				caller{string(role) + " session with a wrong CSRF token", cookie(s, strings.Repeat("x", len(s.CSRF))), http.StatusForbidden},
			)
		}
		out = append(out, caller{string(role) + " session", cookie(s, s.CSRF), want})
		if admitted && rt.AllSites {
			out = append(out, caller{string(role) + " token of some sites", bearer(f.NewToken(t, role, 1, 2)), http.StatusForbidden})
		}
		if admitted && rt.Site != 0 {
			other := rt.Site + 1
			if other == 0 {
				other = 1
			}
			out = append(out,
				caller{string(role) + " token of another site", bearer(f.NewToken(t, role, other)), http.StatusForbidden},
				caller{string(role) + " token of this site", bearer(f.NewToken(t, role, rt.Site, other)), 0},
			)
		}
	}
	return out
}

// checkAnswer checks a response against want (0: let through).
func checkAnswer(t testing.TB, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	refused := rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden
	switch {
	case want == 0 && refused:
		t.Fatalf("got %d %s, want the request let through", rec.Code, strings.TrimSpace(rec.Body.String()))
	case want != 0 && rec.Code != want:
		t.Fatalf("got %d %s, want %d", rec.Code, strings.TrimSpace(rec.Body.String()), want)
	case !refused:
		return
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("a %d answer has Content-Type %q, want JSON", rec.Code, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("a %d answer is not a JSON object: %q", rec.Code, rec.Body)
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	if msg, ok := body["error"].(string); !ok || msg == "" || !slices.Equal(keys, []string{"error"}) {
		t.Errorf("a %d answer is %s, want only {\"error\": …}", rec.Code, rec.Body)
	}
	if c := rec.Result().Cookies(); len(c) > 0 {
		t.Errorf("a %d answer sets cookies: %v", rec.Code, c)
	}
}
