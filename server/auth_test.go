package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
)

func TestAuthRoutes(t *testing.T) {
	st := sqlitetest.Open(t)
	f := authtest.New(t, st, auth.Options{})
	h := New(Options{Collector: collector.New(collector.Options{}), Store: pinger{}, Auth: f.Auth})

	f.Check(t, h, []authtest.Route{{Method: http.MethodGet, Path: "/api/v1/me"}})

	form := url.Values{"email": {f.Email(auth.RoleAnalyst)}, "password": {f.Password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Set-Cookie"), auth.CookieName+"=") {
		t.Fatalf("POST /login: %d %s", rec.Code, rec.Body)
	}
	s := f.Login(t, auth.RoleAnalyst)
	req = httptest.NewRequest(http.MethodPost, "/logout", nil)
	req.AddCookie(s.Cookie)
	req.Header.Set("X-CSRF-Token", s.CSRF)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /logout: %d %s", rec.Code, rec.Body)
	}

	// Without an Auth, none of it is served.
	bare := New(Options{Collector: collector.New(collector.Options{}), Store: pinger{}})
	for _, rt := range []struct{ method, path string }{{"POST", "/login"}, {"POST", "/logout"}, {"GET", "/api/v1/me"}} {
		rec := httptest.NewRecorder()
		bare.ServeHTTP(rec, httptest.NewRequest(rt.method, rt.path, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s %s without Auth: %d, want 404", rt.method, rt.path, rec.Code)
		}
	}
}
