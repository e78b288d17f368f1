package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

func TestLoginSetsCookie(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name       string
		rq         request
		wantSecure bool
	}{
		{"plain http", request{}, false},
		{"tls", request{tls: true}, true},
		{"trusted proxy says https", request{remote: "10.1.2.3:5555", header: map[string]string{"X-Forwarded-Proto": "https"}}, true},
		{"trusted proxy says http", request{remote: "10.1.2.3:5555", header: map[string]string{"X-Forwarded-Proto": "http"}}, false},
		{"untrusted peer says https", request{remote: "203.0.113.9:5555", header: map[string]string{"X-Forwarded-Proto": "https"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{TrustedProxies: []netip.Prefix{proxy}})
			u := e.addUser(t, "Ana@Example.test", RoleAnalyst)
			rq := tt.rq
			rq.method, rq.path = http.MethodPost, "/login"
			rq.form = url.Values{"email": {" ana@EXAMPLE.test "}, "password": {testPassword}}
			rec := e.do(t, rq)
			if rec.Code != http.StatusOK {
				t.Fatalf("login: %d %s", rec.Code, rec.Body)
			}
			c := sessionCookie(t, rec)
			want := http.Cookie{
				Name: "footfall_session", Value: c.Value, Path: "/", MaxAge: 30 * 24 * 3600,
				HttpOnly: true, Secure: tt.wantSecure, SameSite: http.SameSiteStrictMode,
				Raw: c.Raw,
			}
			if diff := cmp.Diff(want, *c); diff != "" {
				t.Errorf("cookie (-want +got):\n%s", diff)
			}
			raw := rec.Header().Get("Set-Cookie")
			for _, attr := range []string{"Path=/", "Max-Age=2592000", "HttpOnly", "SameSite=Strict"} {
				if !strings.Contains(raw, attr) {
					t.Errorf("Set-Cookie %q lacks %s", raw, attr)
				}
			}
			if strings.Contains(raw, "Secure") != tt.wantSecure {
				t.Errorf("Set-Cookie %q: Secure should be %v", raw, tt.wantSecure)
			}
			secret, ok := decodeSecret(c.Value)
			if !ok {
				t.Fatalf("cookie value %q is not 32 bytes of base64url", c.Value)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			var answer loginAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
				t.Fatal(err)
			}
			wantAnswer := loginAnswer{OK: true, CSRF: csrfToken(secret), Role: RoleAnalyst, Expires: e.clock.Now().Add(14 * 24 * time.Hour)}
			if diff := cmp.Diff(wantAnswer, answer); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			// The store keys the session by the secret's hash, never the secret.
			sum := sha256.Sum256(secret)
			sess, err := e.store.SessionByID(context.Background(), hex.EncodeToString(sum[:]))
			if err != nil {
				t.Fatalf("the session is not stored under the SHA-256 of the cookie: %v", err)
			}
			if sess.UserID != u.ID {
				t.Errorf("session of user %s, want %s", sess.UserID, u.ID)
			}
			if _, err := e.store.SessionByID(context.Background(), c.Value); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a session is stored under the cookie's value")
			}
		})
	}
}

func TestLoginAnswers(t *testing.T) {
	e := newEnv(t, Options{})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	tests := []struct {
		name     string
		form     url.Values
		json     bool // post JSON instead of a form
		want     int
		location string
	}{
		{"right password", url.Values{"email": {"ana@example.test"}, "password": {testPassword}}, false, http.StatusOK, ""},
		{"redirect to the dashboard", url.Values{"email": {"ana@example.test"}, "password": {testPassword}, "next": {"/dashboard?site=1"}}, false, http.StatusSeeOther, "/dashboard?site=1"},
		{"wrong password", url.Values{"email": {"ana@example.test"}, "password": {"wrong password!"}}, false, http.StatusUnauthorized, ""},
		{"unknown user", url.Values{"email": {"bob@example.test"}, "password": {testPassword}}, false, http.StatusUnauthorized, ""},
		{"no password", url.Values{"email": {"ana@example.test"}}, false, http.StatusBadRequest, ""},
		{"no e-mail", url.Values{"password": {testPassword}}, false, http.StatusBadRequest, ""},
		{"password too long", url.Values{"email": {"ana@example.test"}, "password": {strings.Repeat("p", MaxPasswordLen+1)}}, false, http.StatusBadRequest, ""},
		{"redirect off the site", url.Values{"email": {"ana@example.test"}, "password": {testPassword}, "next": {"//evil.example/"}}, false, http.StatusBadRequest, ""},
		{"redirect to another scheme", url.Values{"email": {"ana@example.test"}, "password": {testPassword}, "next": {"https://evil.example/"}}, false, http.StatusBadRequest, ""},
		{"json body", nil, true, http.StatusUnsupportedMediaType, ""},
	}
	var wrongPassword, unknownUser string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := request{method: http.MethodPost, path: "/login", form: tt.form}
			if tt.json {
				rq.form = nil
				rq.header = map[string]string{"Content-Type": "application/json"}
			}
			rec := e.do(t, rq)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if loc := rec.Header().Get("Location"); loc != tt.location {
				t.Errorf("Location = %q, want %q", loc, tt.location)
			}
			setsCookie := rec.Header().Get("Set-Cookie") != ""
			if setsCookie != (rec.Code == http.StatusOK || rec.Code == http.StatusSeeOther) {
				t.Errorf("status %d, sets a cookie: %v", rec.Code, setsCookie)
			}
			switch tt.name {
			case "wrong password":
				wrongPassword = rec.Body.String()
			case "unknown user":
				unknownUser = rec.Body.String()
			}
		})
	}
	if wrongPassword != unknownUser {
		t.Errorf("a wrong password (%s) and an unknown user (%s) answer differently", wrongPassword, unknownUser)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	e := newEnv(t, Options{})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	cookie, csrf := e.session(t, "ana@example.test")
	other, _ := e.session(t, "ana@example.test")
	me := func(c *http.Cookie) int {
		return e.do(t, request{method: http.MethodGet, path: "/api/v1/me", cookie: c}).Code
	}
	if got := me(cookie); got != http.StatusOK {
		t.Fatalf("/api/v1/me before logout: %d", got)
	}
	if rec := e.do(t, request{method: http.MethodPost, path: "/logout", cookie: cookie}); rec.Code != http.StatusForbidden {
		t.Fatalf("logout without the CSRF token: %d %s, want 403", rec.Code, rec.Body)
	}
	if got := me(cookie); got != http.StatusOK {
		t.Fatalf("a refused logout ended the session: %d", got)
	}
	rec := e.do(t, request{method: http.MethodPost, path: "/logout", cookie: cookie, csrf: csrf})
	if rec.Code != http.StatusOK {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	cleared := sessionCookie(t, rec)
	if cleared.MaxAge >= 0 || cleared.Value != "" || !cleared.HttpOnly || cleared.SameSite != http.SameSiteStrictMode {
		t.Errorf("logout cookie %+v does not delete the session cookie", cleared)
	}
	if got := me(cookie); got != http.StatusUnauthorized {
		t.Errorf("/api/v1/me after logout: %d, want 401", got)
	}
	if got := me(other); got != http.StatusOK {
		t.Errorf("logout ended another session of the same user: %d", got)
	}
	// Logging out again, or without a session, only clears the cookie.
	if rec := e.do(t, request{method: http.MethodPost, path: "/logout", cookie: cookie}); rec.Code != http.StatusOK {
		t.Errorf("logout of an ended session: %d", rec.Code)
	}
}

func TestSessionExpiry(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		uses []time.Duration // waits before each use; the last one's answer is checked
		want int
	}{
		{"used the next day", []time.Duration{day}, http.StatusOK},
		{"idle just under 14 days", []time.Duration{14*day - time.Second}, http.StatusOK},
		{"idle 14 days", []time.Duration{14 * day}, http.StatusUnauthorized},
		{"each use moves the idle limit", []time.Duration{10 * day, 10 * day}, http.StatusOK},
		{"idle 14 days after a use", []time.Duration{10 * day, 14 * day}, http.StatusUnauthorized},
		{"used daily, until 30 days after login", []time.Duration{7 * day, 7 * day, 7 * day, 7 * day, 2*day - time.Second}, http.StatusOK},
		{"used daily, 30 days after login", []time.Duration{7 * day, 7 * day, 7 * day, 7 * day, 2 * day}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.addUser(t, "ana@example.test", RoleAnalyst)
			cookie, _ := e.session(t, "ana@example.test")
			var got int
			for i, wait := range tt.uses {
				e.clock.Add(wait)
				got = e.do(t, request{method: http.MethodGet, path: "/analyst", cookie: cookie}).Code
				if i < len(tt.uses)-1 && got != http.StatusOK {
					t.Fatalf("use %d: %d", i+1, got)
				}
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDeletedUserLosesSession(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.addUser(t, "ana@example.test", RoleAnalyst)
	cookie, _ := e.session(t, "ana@example.test")
	if err := e.store.DeleteUser(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(t, request{method: http.MethodGet, path: "/analyst", cookie: cookie}); rec.Code != http.StatusUnauthorized {
		t.Errorf("a deleted user's session: %d, want 401", rec.Code)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, Options{})
	e.addUser(t, "ana@example.test", RoleAnalyst)
	e.addUser(t, "bob@example.test", RoleAnalyst)
	cookie, csrf := e.session(t, "ana@example.test")
	_, bobsCSRF := e.session(t, "bob@example.test")
	_, token := e.addToken(t, TokenSpec{Role: RoleAnalyst})
	tests := []struct {
		name string
		rq   request
		want int
	}{
		{"session post without token", request{cookie: cookie}, http.StatusForbidden},
		{"session post with token header", request{cookie: cookie, csrf: csrf}, http.StatusOK},
		{"session post with token field", request{cookie: cookie, form: url.Values{"csrf": {csrf}}}, http.StatusOK},
		{"session post with wrong token", request{cookie: cookie, csrf: strings.Repeat("x", len(csrf))}, http.StatusForbidden},
		{"session post with another session's token", request{cookie: cookie, csrf: bobsCSRF}, http.StatusForbidden},
		{"session post with token in the query", request{cookie: cookie, path: "/analyst?csrf=" + csrf}, http.StatusForbidden},
		{"bearer post needs no token", request{bearer: token}, http.StatusOK},
		{"session get needs no token", request{method: http.MethodGet, cookie: cookie}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := tt.rq
			if rq.method == "" {
				rq.method = http.MethodPost
			}
			if rq.path == "" {
				rq.path = "/analyst"
			}
			if rec := e.do(t, rq); rec.Code != tt.want {
				t.Errorf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
		})
	}
}

func TestMe(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.addUser(t, "ana@example.test", RoleAnalyst)
	cookie, csrf := e.session(t, "ana@example.test")
	tok, token := e.addToken(t, TokenSpec{Role: RolePartner, Partner: "acme", Sites: []uint32{3, 5}, Name: "acme feed"})
	tests := []struct {
		name string
		rq   request
		want meAnswer
	}{
		{"session", request{cookie: cookie}, meAnswer{Kind: KindUser, ID: u.ID, Name: "ana@example.test", Role: RoleAnalyst, AllSites: true, CSRF: csrf}},
		{"token", request{bearer: token}, meAnswer{Kind: KindToken, ID: tok.ID, Name: "acme feed", Role: RolePartner, Partner: "acme", Sites: []uint32{3, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := tt.rq
			rq.method, rq.path = http.MethodGet, "/api/v1/me"
			rec := e.do(t, rq)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			var got meAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if rec := e.do(t, request{method: http.MethodGet, path: "/api/v1/me"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", rec.Code)
	}
}

// TestLoginCSRF: a page of another site must not sign the browser in
// (login CSRF). Browsers send Sec-Fetch-Site and Origin with a form post.
func TestLoginCSRF(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site form post", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.test"}, http.StatusForbidden},
		{"same-site but another origin", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://blog.example.com"}, http.StatusForbidden},
		{"another origin, no Sec-Fetch-Site", map[string]string{"Origin": "https://evil.test"}, http.StatusForbidden},
		{"opaque origin (sandboxed frame)", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"another port of this host", map[string]string{"Origin": "http://example.com:8081"}, http.StatusForbidden},
		{"the dashboard's own form", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, http.StatusOK},
		{"this origin, no Sec-Fetch-Site", map[string]string{"Origin": "http://EXAMPLE.com"}, http.StatusOK},
		{"a script (no browser headers)", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.addUser(t, "ana@example.test", RoleAdmin)
			form := url.Values{"email": {"ana@example.test"}, "password": {testPassword}}
			rec := e.do(t, request{method: http.MethodPost, path: "http://example.com/login", form: form, header: tt.header})
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if rec.Code != http.StatusOK && len(rec.Result().Cookies()) > 0 {
				t.Errorf("a refused login set cookies: %v", rec.Result().Cookies())
			}
		})
	}
}
