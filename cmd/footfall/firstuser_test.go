package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// consoleLogin is the e-mail and password serve printed for a first admin.
var consoleLogin = regexp.MustCompile(`(?m)^  e-mail:   (\S+)\n  password: (\S+)$`)

// signIn posts the login form and returns a client holding the session.
func signIn(t *testing.T, addr, email, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm("http://"+addr+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: %d, want 200", email, resp.StatusCode)
	}
	return c
}

// A first start with no users creates an admin and prints its password
// once, on the console and not in the log lines; the printed login works;
// the next start creates nobody.
func TestFirstStartPrintsAnAdminLogin(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	_, stop := startServe(t, "-store", dsn, "-log-format", "json")
	_, out := stop()
	m := consoleLogin.FindStringSubmatch(out)
	if m == nil || m[1] != firstAdmin {
		t.Fatalf("no first admin login on the console:\n%s", out)
	}
	password := m[2]
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "{") && strings.Contains(line, password) {
			t.Errorf("a log line holds the password: %s", line)
		}
	}

	addr, stop := startServe(t, "-store", dsn)
	signIn(t, addr, firstAdmin, password)
	if _, out := stop(); strings.Contains(out, "password:") {
		t.Errorf("second start printed a login again:\n%s", out)
	}
}
