package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// TestTOTPLogin signs in a user with a second factor, with codes computed
// here from the secret the way an authenticator app does.
func TestTOTPLogin(t *testing.T) {
	e := newEnv(t, Options{})
	u := e.addUser(t, "ana@example.test", RoleAdmin)
	factor, link, err := NewTOTP(u.ID, u.Email, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "otpauth://totp/Footfall:ana@example.test?") || !strings.Contains(link, "secret="+factor.Secret) {
		t.Errorf("enrolment URL %q", link)
	}
	if err := e.store.SetTOTP(context.Background(), factor); err != nil {
		t.Fatal(err)
	}
	code := func(at time.Time) string {
		t.Helper()
		c, err := totp.GenerateCode(factor.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	login := func(password, code string) (int, string, bool) {
		t.Helper()
		form := url.Values{"email": {"ana@example.test"}, "password": {password}}
		if code != "" {
			form.Set("code", code)
		}
		rec := e.do(t, request{method: http.MethodPost, path: "/login", form: form})
		return rec.Code, strings.TrimSpace(rec.Body.String()), len(rec.Result().Cookies()) > 0
	}
	now := e.clock.Now()
	steps := []struct {
		name           string
		advance        time.Duration
		password, code string
		want           int
		wantBody       string
	}{
		{"password alone", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		// The right-password-no-code answers above are not failures: many
		// of them lock nothing.
		{"password alone again", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		{"password alone a third time", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		{"password alone a fourth time", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		{"password alone a fifth time", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		{"password alone a sixth time", 0, testPassword, "", http.StatusUnauthorized, "two-factor code required"},
		{"a code ten minutes old", 0, testPassword, code(now.Add(-10 * time.Minute)), http.StatusUnauthorized, "wrong two-factor code"},
		{"not a code", 0, testPassword, "12345x", http.StatusUnauthorized, "wrong two-factor code"},
		{"the right code, the wrong password", 0, "wrong password!", code(now), http.StatusUnauthorized, "wrong e-mail address or password"},
		{"the current code", 0, testPassword, code(now), http.StatusOK, `"ok":true`},
		{"the same code again (replay)", 0, testPassword, code(now), http.StatusUnauthorized, "wrong two-factor code"},
		{"the next period's code", 30 * time.Second, testPassword, code(now.Add(30 * time.Second)), http.StatusOK, `"ok":true`},
		{"the previous period's code, after a later one", 0, testPassword, code(now), http.StatusUnauthorized, "wrong two-factor code"},
		{"a code of the period before, already used", 30 * time.Second, testPassword, code(now.Add(30 * time.Second)), http.StatusUnauthorized, "wrong two-factor code"},
		{"a code of the period after (clock skew)", 0, testPassword, code(now.Add(90 * time.Second)), http.StatusOK, `"ok":true`},
		{"a code with a space", 5 * time.Minute, testPassword, code(now.Add(5*time.Minute + 60*time.Second))[:3] + " " + code(now.Add(5*time.Minute + 60*time.Second))[3:], http.StatusOK, `"ok":true`},
	}
	for _, st := range steps {
		e.clock.Add(st.advance)
		got, body, cookie := login(st.password, st.code)
		if got != st.want || !strings.Contains(body, st.wantBody) {
			t.Errorf("%s: got %d %s, want %d %s", st.name, got, body, st.want, st.wantBody)
		}
		if cookie != (st.want == http.StatusOK) {
			t.Errorf("%s: cookie set %v", st.name, cookie)
		}
	}

	// Wrong codes count like wrong passwords: five lock the account (from
	// this address), and then even the right code is refused.
	e.clock.Add(time.Hour)
	at := e.clock.Now()
	wrong := "000000"
	if code(at) == wrong {
		wrong = "111111"
	}
	for i := range 5 {
		if got, body, _ := login(testPassword, wrong); got != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d %s", i, got, body)
		}
	}
	if got, body, _ := login(testPassword, code(at)); got != http.StatusTooManyRequests {
		t.Errorf("the right code after 5 wrong ones: %d %s, want 429", got, body)
	}

	// A user without a second factor signs in with the password alone.
	e.addUser(t, "bob@example.test", RoleAnalyst)
	form := url.Values{"email": {"bob@example.test"}, "password": {testPassword}}
	if rec := e.do(t, request{method: http.MethodPost, path: "/login", form: form}); rec.Code != http.StatusOK {
		t.Errorf("login without a second factor: %d %s", rec.Code, rec.Body)
	}
}
