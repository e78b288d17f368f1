package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/web/auth"
)

// accessBackends give the DSN of a fresh store of each backend.
var accessBackends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "footfall.db") }},
	{"clickhouse", func(t *testing.T) string {
		o := chtest.NewEmptyDatabase(t)
		return fmt.Sprintf("clickhouse://%s@%s/%s", o.Username, o.Addr[0], o.Database)
	}},
}

// userAdd runs footfall user add with stdin as its standard input.
func userAdd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := userAddCommand(strings.NewReader(stdin))
	pos, err := c.parse(args, func(string) string { return "" })
	if err != nil {
		return 2, "", err.Error()
	}
	if err := c.run(context.Background(), &runEnv{stdout: &stdout, stderr: &stderr}, pos); err != nil {
		return 1, stdout.String(), err.Error()
	}
	return 0, stdout.String(), stderr.String()
}

// accessCheck is an Auth over the store at dsn, for checking what the
// commands stored.
type accessCheck struct {
	auth *auth.Auth
}

func openAccessCheck(t *testing.T, dsn string) *accessCheck {
	t.Helper()
	target, err := parseStore(dsn)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), target, false, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &accessCheck{auth: auth.New(auth.Options{Store: st})}
}

// login posts the login form and returns the status.
func (a *accessCheck) login(email, password string) int {
	form := url.Values{"email": {email}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	httpapi.Handle(nil, a.auth.HandleLogin).ServeHTTP(rec, req)
	return rec.Code
}

// bearer authenticates a token.
func (a *accessCheck) bearer(token string) (auth.Principal, error) {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return a.auth.Authenticate(req)
}

var (
	passwordLine = regexp.MustCompile(`(?m)^password: (\S+)$`)
	tokenLine    = regexp.MustCompile(`^ff_[0-9a-f]{16}_[a-z2-7]{52}\n$`)
)

func TestUserCommands(t *testing.T) {
	for _, b := range accessBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			for _, d := range []string{"a.example", "b.example"} {
				if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, d); code != 0 {
					t.Fatalf("site add %s: %s", d, errOut)
				}
			}
			pwFile := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pwFile, []byte("from a file, 1234\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			// A generated password, printed once.
			code, out, errOut := footfall(t, nil, "user", "add", "-store", dsn, "-email", "Ana@Example.test", "-role", "analyst", "-site", "a.example")
			m := passwordLine.FindStringSubmatch(out)
			if code != 0 || m == nil || !strings.Contains(out, "added user ana@example.test") || !strings.Contains(errOut, "shown once") {
				t.Fatalf("user add with a generated password: exit %d\n%s%s", code, out, errOut)
			}
			generated := m[1]
			if code, out, errOut := footfall(t, nil, "user", "add", "-store", dsn, "-email", "root@example.test", "-role", "admin", "-password-file", pwFile); code != 0 || strings.Contains(out, "password") {
				t.Fatalf("user add -password-file: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, errOut := userAdd(t, "from standard input\nignored\n", "-store", dsn, "-email", "pat@partner.test", "-role", "partner", "-partner", "acme", "-password-stdin"); code != 0 {
				t.Fatalf("user add -password-stdin: exit %d\n%s%s", code, out, errOut)
			}

			refused := []struct {
				name     string
				args     []string
				wantCode int
				wantErr  string
			}{
				{"taken e-mail", []string{"-email", "ANA@example.test", "-role", "admin"}, 1, "exists"},
				{"partner without a name", []string{"-email", "x@example.test", "-role", "partner"}, 2, "partner: required"},
				{"analyst with a partner", []string{"-email", "x@example.test", "-role", "analyst", "-partner", "acme"}, 2, "only for role partner"},
				{"no role", []string{"-email", "x@example.test"}, 2, "-role: required"},
				{"bad e-mail", []string{"-email", "not an address", "-role", "admin"}, 2, "-email"},
				{"two password sources", []string{"-email", "x@example.test", "-role", "admin", "-password-file", pwFile, "-password-stdin"}, 2, "give one"},
				{"unknown site", []string{"-email", "x@example.test", "-role", "analyst", "-site", "c.example"}, 1, "c.example is not registered"},
				{"missing password file", []string{"-email", "x@example.test", "-role", "admin", "-password-file", pwFile + ".missing"}, 1, "-password-file"},
			}
			for _, tt := range refused {
				t.Run(tt.name, func(t *testing.T) {
					code, _, errOut := footfall(t, nil, append([]string{"user", "add", "-store", dsn}, tt.args...)...)
					if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) {
						t.Errorf("exit %d, want %d with %q:\n%s", code, tt.wantCode, tt.wantErr, errOut)
					}
				})
			}
			if code, _, errOut := userAdd(t, "\n", "-store", dsn, "-email", "y@example.test", "-role", "admin", "-password-stdin"); code != 1 || !strings.Contains(errOut, "empty") {
				t.Errorf("an empty password on stdin: exit %d %s", code, errOut)
			}

			code, out, _ = footfall(t, nil, "user", "list", "-store", dsn)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 4 {
				t.Fatalf("user list: exit %d\n%s", code, out)
			}
			for _, want := range []string{"ana@example.test", "analyst", "a.example", "root@example.test", "admin", "all", "pat@partner.test", "acme"} {
				if !strings.Contains(out, want) {
					t.Errorf("user list lacks %q:\n%s", want, out)
				}
			}
			for _, secret := range []string{"argon2", generated, "from a file", "from standard input"} {
				if strings.Contains(out, secret) {
					t.Errorf("user list shows %q", secret)
				}
			}

			check := openAccessCheck(t, dsn)
			logins := []struct {
				email, password string
				want            int
			}{
				{"ana@example.test", generated, http.StatusOK},
				{"root@example.test", "from a file, 1234", http.StatusOK},
				{"pat@partner.test", "from standard input", http.StatusOK},
				{"root@example.test", "from a file, 1234\n", http.StatusUnauthorized},
			}
			for _, l := range logins {
				if got := check.login(l.email, l.password); got != l.want {
					t.Errorf("login as %s: %d, want %d", l.email, got, l.want)
				}
			}

			if code, out, errOut := footfall(t, nil, "user", "delete", "-store", dsn, "ana@example.test"); code != 0 || !strings.Contains(out, "deleted user ana@example.test") {
				t.Fatalf("user delete: exit %d\n%s%s", code, out, errOut)
			}
			if got := check.login("ana@example.test", generated); got != http.StatusUnauthorized {
				t.Errorf("login of a deleted user: %d, want 401", got)
			}
			if code, _, errOut := footfall(t, nil, "user", "delete", "-store", dsn, "ana@example.test"); code != 1 || !strings.Contains(errOut, "no user") {
				t.Errorf("user delete twice: exit %d %s", code, errOut)
			}
		})
	}
}

func TestTokenCommands(t *testing.T) {
	for _, b := range accessBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			for _, d := range []string{"a.example", "b.example"} {
				if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, d); code != 0 {
					t.Fatalf("site add %s: %s", d, errOut)
				}
			}
			code, token, errOut := footfall(t, nil, "token", "create", "-store", dsn, "-role", "analyst", "-site", "a.example,b.example", "-name", "ci report")
			if code != 0 || !tokenLine.MatchString(token) {
				t.Fatalf("token create: exit %d, stdout %q, stderr %s", code, token, errOut)
			}
			token = strings.TrimSpace(token)
			id := strings.Split(token, "_")[1]
			if !strings.Contains(errOut, id) || !strings.Contains(errOut, "shown once") || strings.Contains(errOut, token) {
				t.Errorf("token create stderr: %s", errOut)
			}
			code, partnerToken, errOut := footfall(t, nil, "token", "create", "-store", dsn, "-role", "partner", "-partner", "acme")
			if code != 0 || !tokenLine.MatchString(partnerToken) {
				t.Fatalf("token create partner: exit %d %s", code, errOut)
			}

			refused := []struct {
				name     string
				args     []string
				wantCode int
				wantErr  string
			}{
				{"partner without a name", []string{"-role", "partner"}, 2, "partner: required"},
				{"unknown role", []string{"-role", "owner"}, 2, "want admin, analyst or partner"},
				{"unknown site", []string{"-role", "analyst", "-site", "c.example"}, 1, "not registered"},
				{"bad site", []string{"-role", "analyst", "-site", "http://a.example"}, 2, "-site"},
			}
			for _, tt := range refused {
				t.Run(tt.name, func(t *testing.T) {
					code, out, errOut := footfall(t, nil, append([]string{"token", "create", "-store", dsn}, tt.args...)...)
					if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) || out != "" {
						t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.wantCode, tt.wantErr, out, errOut)
					}
				})
			}

			check := openAccessCheck(t, dsn)
			p, err := check.bearer(token)
			if err != nil {
				t.Fatalf("the created token does not authenticate: %v", err)
			}
			if p.Role != auth.RoleAnalyst || len(p.Sites) != 2 || p.Name != "ci report" {
				t.Errorf("principal %+v", p)
			}
			if p, err := check.bearer(strings.TrimSpace(partnerToken)); err != nil || p.Partner != "acme" || p.Sites != nil {
				t.Errorf("partner token: %+v, %v", p, err)
			}

			code, out, _ := footfall(t, nil, "token", "list", "-store", dsn)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 3 {
				t.Fatalf("token list: exit %d\n%s", code, out)
			}
			row := lineWith(lines, id)
			for _, want := range []string{"ci report", "analyst", "a.example,b.example", "active"} {
				if !strings.Contains(row, want) {
					t.Errorf("token list row %q lacks %q", row, want)
				}
			}
			if strings.Contains(row, "never") {
				t.Errorf("token list does not show the use: %q", row)
			}
			secret := token[len(token)-52:]
			if strings.Contains(out, secret) || strings.Contains(out, strings.Split(strings.TrimSpace(partnerToken), "_")[2]) {
				t.Errorf("token list shows a secret:\n%s", out)
			}

			if code, out, errOut := footfall(t, nil, "token", "revoke", "-store", dsn, id); code != 0 || !strings.Contains(out, "revoked token "+id) {
				t.Fatalf("token revoke: exit %d %s%s", code, out, errOut)
			}
			if _, err := check.bearer(token); err == nil {
				t.Error("a revoked token still authenticates")
			}
			_, out, _ = footfall(t, nil, "token", "list", "-store", dsn)
			if row := lineWith(strings.Split(out, "\n"), id); !strings.Contains(row, "revoked") {
				t.Errorf("token list after revoke: %q", row)
			}
			if code, _, errOut := footfall(t, nil, "token", "revoke", "-store", dsn, "0123456789abcdef"); code != 1 || !strings.Contains(errOut, "no token") {
				t.Errorf("revoke of an unknown id: exit %d %s", code, errOut)
			}
			if code, _, errOut := footfall(t, nil, "token", "revoke", "-store", dsn, token); code != 2 || strings.Contains(errOut, secret) {
				t.Errorf("revoke given the whole token: exit %d, stderr %s", code, errOut)
			}
		})
	}
}

func lineWith(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestUserTOTPCommand turns two-factor sign-in on and off with the CLI and
// signs in to a running server with codes computed from the printed URL.
func TestUserTOTPCommand(t *testing.T) {
	for _, b := range accessBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			pwFile := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pwFile, []byte("plum rocket velvet harbour\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := footfall(t, nil, "user", "add", "-store", dsn, "-email", "ops@example.test", "-role", "admin", "-password-file", pwFile); code != 0 {
				t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
			}
			if code, _, errOut := footfall(t, nil, "user", "totp", "-store", dsn, "-disable", "ops@example.test"); code != 1 || !strings.Contains(errOut, "no second factor") {
				t.Errorf("user totp -disable before enrolment: exit %d %s", code, errOut)
			}
			if code, _, errOut := footfall(t, nil, "user", "totp", "-store", dsn, "nobody@example.test"); code != 1 || !strings.Contains(errOut, "no user") {
				t.Errorf("user totp of an unknown user: exit %d %s", code, errOut)
			}
			code, out, errOut := footfall(t, nil, "user", "totp", "-store", dsn, "ops@example.test")
			link, err := url.Parse(strings.TrimSpace(out))
			if code != 0 || err != nil || link.Scheme != "otpauth" || link.Query().Get("secret") == "" {
				t.Fatalf("user totp: exit %d %q %s", code, out, errOut)
			}
			secret := link.Query().Get("secret")
			if strings.Contains(errOut, secret) {
				t.Errorf("the secret is on stderr too: %s", errOut)
			}

			addr, _ := startServe(t, "-store", dsn)
			login := func(code string) (int, string) {
				t.Helper()
				form := url.Values{"email": {"ops@example.test"}, "password": {"plum rocket velvet harbour"}}
				if code != "" {
					form.Set("code", code)
				}
				resp, err := http.PostForm("http://"+addr+"/login", form)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body)
			}
			if code, body := login(""); code != http.StatusUnauthorized || !strings.Contains(body, "two-factor code required") {
				t.Errorf("password alone: %d %s", code, body)
			}
			now, err := totp.GenerateCode(secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if code, body := login(now); code != http.StatusOK {
				t.Errorf("password and code: %d %s", code, body)
			}

			// The way back for a user who lost their authenticator.
			if code, _, errOut := footfall(t, nil, "user", "totp", "-store", dsn, "-disable", "ops@example.test"); code != 0 {
				t.Fatalf("user totp -disable: exit %d %s", code, errOut)
			}
			if code, body := login(""); code != http.StatusOK {
				t.Errorf("password alone after -disable: %d %s", code, body)
			}
		})
	}
}
