package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var tokenShape = regexp.MustCompile(`^ff_[0-9a-f]{16}_[a-z2-7]{52}$`)

func TestNewToken(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 500, time.UTC)
	tok, secret, err := NewToken(TokenSpec{Role: RolePartner, Partner: "acme", Sites: []uint32{4}, Name: "nightly export"}, now)
	if err != nil {
		t.Fatalf("NewToken: %v", err)
	}
	if !tokenShape.MatchString(secret) || len(secret) != TokenLen {
		t.Errorf("token %q does not read ff_<16 hex>_<52 base32>", secret)
	}
	id, sec, ok := parseToken(secret)
	if !ok || id != tok.ID {
		t.Fatalf("parseToken(%q) = %q, _, %v; want id %q", secret, id, ok, tok.ID)
	}
	sum := sha256.Sum256([]byte(sec))
	if tok.SecretHash != hex.EncodeToString(sum[:]) {
		t.Errorf("SecretHash is not the SHA-256 of the secret")
	}
	if strings.Contains(tok.SecretHash, sec) || tok.Role != "partner" || tok.Partner != "acme" || tok.Name != "nightly export" ||
		len(tok.Sites) != 1 || !tok.CreatedAt.Equal(now.Truncate(time.Second)) || tok.Revoked() {
		t.Errorf("NewToken stored %+v", tok)
	}
	_, other, err := NewToken(TokenSpec{Role: RoleAdmin}, now)
	if err != nil {
		t.Fatal(err)
	}
	if other == secret {
		t.Error("two tokens are equal")
	}
}

func TestNewTokenRefusesBadGrants(t *testing.T) {
	tests := []struct {
		name string
		spec TokenSpec
		want string
	}{
		{"no role", TokenSpec{}, "role"},
		{"unknown role", TokenSpec{Role: "root"}, "role"},
		{"partner without a name", TokenSpec{Role: RolePartner}, "partner: required"},
		{"partner with a bad name", TokenSpec{Role: RolePartner, Partner: "Acme Corp"}, "partner:"},
		{"analyst with a partner", TokenSpec{Role: RoleAnalyst, Partner: "acme"}, "only for role partner"},
		{"empty site scope", TokenSpec{Role: RoleAnalyst, Sites: []uint32{}}, "empty scope"},
		{"control character in the name", TokenSpec{Role: RoleAnalyst, Name: "a\nb"}, "control character"},
		{"name too long", TokenSpec{Role: RoleAnalyst, Name: strings.Repeat("n", 101)}, "at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewToken(tt.spec, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewToken(%+v): error %v, want one containing %q", tt.spec, err, tt.want)
			}
		})
	}
}

func TestParseTokenRefusesMalformed(t *testing.T) {
	good := "ff_0123456789abcdef_" + strings.Repeat("a", 52)
	if _, _, ok := parseToken(good); !ok {
		t.Fatalf("parseToken(%q) refused a well-formed token", good)
	}
	tests := []struct{ name, token string }{
		{"empty", ""},
		{"no prefix", strings.TrimPrefix(good, "ff_") + "xxx"},
		{"other prefix", "gh" + good[2:]},
		{"upper-case id", "ff_0123456789ABCDEF_" + strings.Repeat("a", 52)},
		{"short secret", good[:len(good)-1]},
		{"long secret", good + "a"},
		{"secret outside base32", "ff_0123456789abcdef_" + strings.Repeat("1", 52)},
		{"underscore moved", "ff_0123456789abcde_f" + strings.Repeat("a", 52)},
		{"a consent token", "v1.eyJjIjoxfQ.c2ln"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, ok := parseToken(tt.token); ok {
				t.Errorf("parseToken(%q) accepted it", tt.token)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t, Options{})
	tok, secret := e.addToken(t, TokenSpec{Role: RoleAnalyst, Sites: []uint32{7}})
	_, revoked := e.addToken(t, TokenSpec{Role: RoleAdmin})
	if err := e.store.RevokeToken(context.Background(), strings.Split(revoked, "_")[1], e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The right id with another secret.
	forged := secret[:len(secret)-4] + "aaaa"
	if forged == secret {
		forged = secret[:len(secret)-4] + "bbbb"
	}
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"valid", "Bearer " + secret, http.StatusOK},
		{"scheme in lower case", "bearer " + secret, http.StatusOK},
		{"revoked", "Bearer " + revoked, http.StatusUnauthorized},
		{"wrong secret", "Bearer " + forged, http.StatusUnauthorized},
		{"unknown id", "Bearer ff_0000000000000000_" + strings.Repeat("a", 52), http.StatusUnauthorized},
		{"malformed", "Bearer ff_nope", http.StatusUnauthorized},
		{"no scheme", secret, http.StatusUnauthorized},
		{"basic", "Basic YWRtaW46YWRtaW4=", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(t, request{method: http.MethodGet, path: "/analyst", header: map[string]string{"Authorization": tt.header}})
			if rec.Code != tt.want {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
			if strings.Contains(rec.Body.String(), "revoked") || strings.Contains(rec.Body.String(), "secret") {
				t.Errorf("the answer says why: %s", rec.Body)
			}
		})
	}
	got, err := e.store.TokenByID(context.Background(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastUsed.Equal(e.clock.Now()) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, e.clock.Now())
	}
}

// A token works until it is revoked, and not a request longer.
func TestRevokedTokenIsRefused(t *testing.T) {
	e := newEnv(t, Options{})
	tok, secret := e.addToken(t, TokenSpec{Role: RoleAnalyst})
	if rec := e.do(t, request{method: http.MethodGet, path: "/analyst", bearer: secret}); rec.Code != http.StatusOK {
		t.Fatalf("before revocation: %d %s", rec.Code, rec.Body)
	}
	if err := e.store.RevokeToken(context.Background(), tok.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(t, request{method: http.MethodGet, path: "/analyst", bearer: secret}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("after revocation: %d %s, want 401", rec.Code, rec.Body)
	}
}

func TestPrincipalCanSite(t *testing.T) {
	tests := []struct {
		name  string
		sites []uint32
		site  uint32
		want  bool
	}{
		{"every site", nil, 42, true},
		{"in scope", []uint32{1, 42}, 42, true},
		{"out of scope", []uint32{1, 2}, 42, false},
		{"empty scope", []uint32{}, 42, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Principal{Sites: tt.sites}).CanSite(tt.site); got != tt.want {
				t.Errorf("CanSite(%d) with sites %v = %v, want %v", tt.site, tt.sites, got, tt.want)
			}
		})
	}
}

func TestRoleHierarchy(t *testing.T) {
	tests := []struct {
		role Role
		want []Role // the endpoints' roles it may use
	}{
		{RoleAdmin, []Role{RoleAdmin, RoleAnalyst}},
		{RoleAnalyst, []Role{RoleAnalyst}},
		{RolePartner, []Role{RolePartner}},
	}
	for _, tt := range tests {
		for _, endpoint := range Roles {
			want := false
			for _, w := range tt.want {
				want = want || w == endpoint
			}
			if got := (Principal{Role: tt.role}).HasRole(endpoint); got != want {
				t.Errorf("%s on a %s endpoint: %v, want %v", tt.role, endpoint, got, want)
			}
		}
	}
}
