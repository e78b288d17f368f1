package auth

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Logins, failures, lockouts and logouts reach the audit log, with ids only.
func TestLoginsAreAudited(t *testing.T) {
	e := newEnv(t, Options{LockAfter: 2})
	u := e.addUser(t, "ana@example.test", RoleAnalyst)
	e.login(t, "ana@example.test", "wrong password 1")
	e.login(t, "ana@example.test", "wrong password 2")
	e.login(t, "ana@example.test", testPassword) // locked
	e.clock.Add(2 * time.Hour)
	cookie, csrf := e.session(t, "ana@example.test")
	if rec := e.do(t, request{method: http.MethodPost, path: "/logout", cookie: cookie, csrf: csrf}); rec.Code != http.StatusOK {
		t.Fatalf("logout: %d", rec.Code)
	}
	entries, err := e.store.AuditLog(context.Background(), e.clock.Now().Add(-24*time.Hour), e.clock.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		got = append(got, en.Action+":"+en.Target)
		for _, secret := range []string{testPassword, "wrong password", cookie.Value, csrf} {
			if strings.Contains(en.Actor+en.Target+en.Detail, secret) {
				t.Errorf("audit entry %+v holds a secret", en)
			}
		}
	}
	want := "login_failed:" + u.ID + ",login_failed:" + u.ID + ",login_locked:,login:" + u.ID + ",logout:"
	if strings.Join(got, ",") != want {
		t.Errorf("audit log = %v, want %s", got, want)
	}
}
