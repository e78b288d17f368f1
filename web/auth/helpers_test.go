package auth

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is an Auth on a real SQLite store, with a clock and the routes the
// tests call.
type env struct {
	auth  *Auth
	store *sqlite.Store
	clock *clock
	h     http.Handler
}

const testPassword = "correct horse battery staple"

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	st := sqlitetest.Open(t)
	c := &clock{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	opts.Store = st
	opts.Audit = st
	opts.Now = c.Now
	a := New(opts)

	mux := http.NewServeMux()
	handle := func(pattern string, fn httpapi.HandlerFunc) { mux.Handle(pattern, httpapi.Handle(nil, fn)) }
	ok := func(w http.ResponseWriter, r *http.Request) error {
		p, _ := FromRequest(r)
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"id": p.ID})
		return nil
	}
	handle("POST /login", a.HandleLogin)
	handle("POST /logout", a.HandleLogout)
	handle("GET /api/v1/me", a.Require()(a.HandleMe))
	handle("GET /analyst", a.Require(RoleAnalyst)(ok))
	handle("POST /analyst", a.Require(RoleAnalyst)(ok))
	return &env{auth: a, store: st, clock: c, h: mux}
}

// addUser stores a user of role with testPassword.
func (e *env) addUser(t *testing.T, email string, role Role) store.User {
	t.Helper()
	spec := UserSpec{Email: email, Role: role}
	if role == RolePartner {
		spec.Partner = "acme"
	}
	u, err := NewUser(spec, testPassword, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// addToken stores a token and returns it.
func (e *env) addToken(t *testing.T, spec TokenSpec) (store.Token, string) {
	t.Helper()
	tok, secret, err := NewToken(spec, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return tok, secret
}

// request describes one call of env's handler.
type request struct {
	method, path string
	form         url.Values
	bearer       string
	cookie       *http.Cookie
	csrf         string
	remote       string // RemoteAddr; default 192.0.2.1:1234
	header       map[string]string
	tls          bool
}

func (e *env) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if rq.form != nil {
		req = httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(rq.method, rq.path, nil)
	}
	if rq.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+rq.bearer)
	}
	if rq.cookie != nil {
		req.AddCookie(rq.cookie)
	}
	if rq.csrf != "" {
		req.Header.Set("X-CSRF-Token", rq.csrf)
	}
	if rq.remote != "" {
		req.RemoteAddr = rq.remote
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	if rq.tls {
		req.TLS = &tls.ConnectionState{}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// login posts the login form and returns the answer.
func (e *env) login(t *testing.T, email, password string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, request{method: http.MethodPost, path: "/login", form: url.Values{"email": {email}, "password": {password}}})
}

// session logs in and returns the cookie and the CSRF token.
func (e *env) session(t *testing.T, email string) (*http.Cookie, string) {
	t.Helper()
	rec := e.login(t, email, testPassword)
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var answer loginAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatal(err)
	}
	return sessionCookie(t, rec), answer.CSRF
}

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", CookieName, rec.Result().Header["Set-Cookie"])
	return nil
}
