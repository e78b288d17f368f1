package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// AccessBackend is what the access-control suite exercises: users, API
// tokens and dashboard sessions.
type AccessBackend interface {
	AddUser(ctx context.Context, u store.User) error
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	DeleteUser(ctx context.Context, id string) error

	AddToken(ctx context.Context, t store.Token) error
	TokenByID(ctx context.Context, id string) (store.Token, error)
	Tokens(ctx context.Context) ([]store.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	AddSession(ctx context.Context, s store.Session) error
	SessionByID(ctx context.Context, id string) (store.Session, error)
	ExtendSession(ctx context.Context, id string, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteSessionsBefore(ctx context.Context, createdBefore time.Time) error
}

// RunAccess runs the access-control storage suite. open may return the
// same database for every subtest: each works on ids of its own.
func RunAccess(t *testing.T, open func(t *testing.T) AccessBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b AccessBackend)
	}{
		{"Users", testUsers},
		{"UserSiteScopes", testUserScopes},
		{"DeletedUserIsGone", testDeleteUser},
		{"Tokens", testTokens},
		{"RevokedTokenStaysRevoked", testRevokeToken},
		{"Sessions", testSessions},
		{"DeletedSessionStaysDeleted", testDeleteSession},
		{"DeleteSessionsBefore", testDeleteSessionsBefore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// accessTime is a fixed second-precision time: every backend keeps seconds.
var accessTime = time.Date(2026, 4, 1, 9, 30, 0, 0, time.UTC)

func randomID() string { return fmt.Sprintf("%016x", rand.Uint64()) }

func newUser(sites []uint32) store.User {
	id := randomID()
	return store.User{
		ID: id, Email: "u-" + id + "@example.test",
		PasswordHash: "argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Role:         "analyst", Sites: sites, CreatedAt: accessTime,
	}
}

func testUsers(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	u := newUser(nil)
	if _, err := b.UserByEmail(ctx, u.Email); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserByEmail before AddUser: got %v, want ErrNotFound", err)
	}
	if _, err := b.UserByID(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UserByID before AddUser: got %v, want ErrNotFound", err)
	}
	if err := b.AddUser(ctx, u); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	got, err := b.UserByEmail(ctx, u.Email)
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("UserByEmail (-added +got):\n%s", diff)
	}
	got, err = b.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID: %v", err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("UserByID (-added +got):\n%s", diff)
	}

	twin := newUser(nil)
	twin.Email = u.Email
	if err := b.AddUser(ctx, twin); !errors.Is(err, store.ErrUserExists) {
		t.Errorf("AddUser with a taken e-mail: got %v, want ErrUserExists", err)
	}
	all, err := b.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if n := countUsers(all, u.Email); n != 1 {
		t.Errorf("Users lists %s %d times, want once", u.Email, n)
	}
}

func testUserScopes(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	tests := []struct {
		name  string
		sites []uint32
	}{
		{"every site", nil},
		{"one site", []uint32{7}},
		{"several sites in order", []uint32{4294967295, 1, 300}},
		{"no site", []uint32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(tt.sites)
			u.Role, u.Partner = "partner", "acme-corp"
			if err := b.AddUser(ctx, u); err != nil {
				t.Fatalf("AddUser: %v", err)
			}
			got, err := b.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("UserByID: %v", err)
			}
			// nil (every site) and empty (no site) must not be confused.
			if (got.Sites == nil) != (tt.sites == nil) {
				t.Errorf("Sites = %#v, want %#v", got.Sites, tt.sites)
			}
			if diff := cmp.Diff(u, got); diff != "" {
				t.Errorf("(-added +got):\n%s", diff)
			}
		})
	}
}

func testDeleteUser(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	u := newUser([]uint32{3})
	if err := b.AddUser(ctx, u); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	if err := b.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := b.UserByID(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByID after DeleteUser: got %v, want ErrNotFound", err)
	}
	if _, err := b.UserByEmail(ctx, u.Email); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserByEmail after DeleteUser: got %v, want ErrNotFound", err)
	}
	all, err := b.Users(ctx)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if n := countUsers(all, u.Email); n != 0 {
		t.Errorf("Users lists a deleted user %d times", n)
	}
	if err := b.DeleteUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser twice: got %v, want ErrNotFound", err)
	}
	// The address is free again, for a new user.
	again := newUser(nil)
	again.Email = u.Email
	if err := b.AddUser(ctx, again); err != nil {
		t.Fatalf("AddUser with a deleted user's e-mail: %v", err)
	}
	got, err := b.UserByEmail(ctx, u.Email)
	if err != nil {
		t.Fatalf("UserByEmail: %v", err)
	}
	if got.ID != again.ID {
		t.Errorf("UserByEmail returned user %s, want the new user %s", got.ID, again.ID)
	}
}

func countUsers(users []store.User, email string) int {
	n := 0
	for _, u := range users {
		if u.Email == email {
			n++
		}
	}
	return n
}

func newToken(sites []uint32) store.Token {
	return store.Token{
		ID: randomID(), SecretHash: fmt.Sprintf("%064x", rand.Uint64()), Name: "ci export",
		Role: "partner", Partner: "acme", Sites: sites, CreatedAt: accessTime,
	}
}

func testTokens(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	tok := newToken([]uint32{9, 2})
	if _, err := b.TokenByID(ctx, tok.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TokenByID before AddToken: got %v, want ErrNotFound", err)
	}
	if err := b.AddToken(ctx, tok); err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	scoped := newToken(nil)
	scoped.Role, scoped.Partner, scoped.Name = "admin", "", ""
	if err := b.AddToken(ctx, scoped); err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	for _, want := range []store.Token{tok, scoped} {
		got, err := b.TokenByID(ctx, want.ID)
		if err != nil {
			t.Fatalf("TokenByID: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("TokenByID (-added +got):\n%s", diff)
		}
	}

	used := accessTime.Add(time.Hour)
	if err := b.TouchToken(ctx, tok.ID, used); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if err := b.TouchToken(ctx, tok.ID, used.Add(-time.Minute)); err != nil {
		t.Fatalf("TouchToken (older): %v", err)
	}
	got, err := b.TokenByID(ctx, tok.ID)
	if err != nil {
		t.Fatalf("TokenByID: %v", err)
	}
	if !got.LastUsed.Equal(used) {
		t.Errorf("LastUsed = %v, want %v (the latest use)", got.LastUsed, used)
	}

	all, err := b.Tokens(ctx)
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	want := tok
	want.LastUsed = used
	found := 0
	for _, g := range all {
		if g.ID == tok.ID {
			found++
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("Tokens entry (-want +got):\n%s", diff)
			}
		}
	}
	if found != 1 {
		t.Errorf("Tokens lists %s %d times, want once", tok.ID, found)
	}
}

func testRevokeToken(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	tok := newToken(nil)
	if err := b.AddToken(ctx, tok); err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	revoked := accessTime.Add(2 * time.Hour)
	if err := b.RevokeToken(ctx, tok.ID, revoked); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	// A use recorded after (or racing) the revocation does not undo it.
	if err := b.TouchToken(ctx, tok.ID, revoked.Add(time.Minute)); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	if err := b.RevokeToken(ctx, tok.ID, revoked.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken twice: %v", err)
	}
	got, err := b.TokenByID(ctx, tok.ID)
	if err != nil {
		t.Fatalf("TokenByID of a revoked token: %v", err)
	}
	if !got.Revoked() || !got.RevokedAt.Equal(revoked) {
		t.Errorf("RevokedAt = %v, want %v (the first revocation)", got.RevokedAt, revoked)
	}
	all, err := b.Tokens(ctx)
	if err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	listed := false
	for _, g := range all {
		if g.ID == tok.ID {
			listed = true
			if !g.Revoked() {
				t.Errorf("Tokens lists a revoked token as active")
			}
		}
	}
	if !listed {
		t.Errorf("Tokens does not list the revoked token")
	}
	if err := b.RevokeToken(ctx, randomID(), revoked); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeToken of an unknown id: got %v, want ErrNotFound", err)
	}
}

func newSession(created time.Time) store.Session {
	return store.Session{
		ID:     fmt.Sprintf("%016x%016x%016x%016x", rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()),
		UserID: randomID(), CreatedAt: created, ExpiresAt: created.Add(14 * 24 * time.Hour),
	}
}

func testSessions(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	s := newSession(accessTime)
	if _, err := b.SessionByID(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SessionByID before AddSession: got %v, want ErrNotFound", err)
	}
	if err := b.AddSession(ctx, s); err != nil {
		t.Fatalf("AddSession: %v", err)
	}
	got, err := b.SessionByID(ctx, s.ID)
	if err != nil {
		t.Fatalf("SessionByID: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("SessionByID (-added +got):\n%s", diff)
	}
	later := s.ExpiresAt.Add(3 * time.Hour)
	steps := []struct {
		name    string
		extend  time.Time
		wantExp time.Time
	}{
		{"forward", later, later},
		{"never back", later.Add(-time.Hour), later},
	}
	for _, st := range steps {
		if err := b.ExtendSession(ctx, s.ID, st.extend); err != nil {
			t.Fatalf("ExtendSession %s: %v", st.name, err)
		}
		got, err := b.SessionByID(ctx, s.ID)
		if err != nil {
			t.Fatalf("SessionByID after extending %s: %v", st.name, err)
		}
		if !got.ExpiresAt.Equal(st.wantExp) || !got.CreatedAt.Equal(s.CreatedAt) || got.UserID != s.UserID {
			t.Errorf("after extending %s: got %+v, want expiry %v", st.name, got, st.wantExp)
		}
	}
}

func testDeleteSession(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	s := newSession(accessTime)
	if err := b.AddSession(ctx, s); err != nil {
		t.Fatalf("AddSession: %v", err)
	}
	if err := b.DeleteSession(ctx, s.ID); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := b.SessionByID(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID after DeleteSession: got %v, want ErrNotFound", err)
	}
	// An extension racing the logout must not bring the session back.
	if err := b.ExtendSession(ctx, s.ID, s.ExpiresAt.Add(24*time.Hour)); err != nil {
		t.Fatalf("ExtendSession of a deleted session: %v", err)
	}
	if _, err := b.SessionByID(ctx, s.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SessionByID after extending a deleted session: got %v, want ErrNotFound", err)
	}
	if err := b.DeleteSession(ctx, s.ID); err != nil {
		t.Errorf("DeleteSession twice: %v", err)
	}
}

func testDeleteSessionsBefore(t *testing.T, b AccessBackend) {
	ctx := context.Background()
	old := newSession(accessTime.Add(-60 * 24 * time.Hour))
	recent := newSession(accessTime)
	for _, s := range []store.Session{old, recent} {
		if err := b.AddSession(ctx, s); err != nil {
			t.Fatalf("AddSession: %v", err)
		}
	}
	// An extended session has several versions in some backends; all go.
	if err := b.ExtendSession(ctx, old.ID, old.ExpiresAt.Add(time.Hour)); err != nil {
		t.Fatalf("ExtendSession: %v", err)
	}
	if err := b.DeleteSessionsBefore(ctx, accessTime.Add(-30*24*time.Hour)); err != nil {
		t.Fatalf("DeleteSessionsBefore: %v", err)
	}
	// The deletion may be applied in the background (ClickHouse mutations).
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := b.SessionByID(ctx, old.ID)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatalf("SessionByID: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a session created before the cut-off is still there after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := b.SessionByID(ctx, recent.ID); err != nil {
		t.Errorf("SessionByID of a session after the cut-off: %v", err)
	}
}

// TOTPBackend is what the second-factor suite exercises.
type TOTPBackend interface {
	AddUser(ctx context.Context, u store.User) error
	SetTOTP(ctx context.Context, t store.TOTP) error
	TOTPByUser(ctx context.Context, userID string) (store.TOTP, error)
	DeleteTOTP(ctx context.Context, userID string) error
}

// RunTOTP runs the second-factor storage suite: enrol, replace, remove,
// enrol again.
func RunTOTP(t *testing.T, b TOTPBackend) {
	ctx := context.Background()
	u := newUser(nil)
	if err := b.AddUser(ctx, u); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	if _, err := b.TOTPByUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TOTPByUser before enrolment: %v, want ErrNotFound", err)
	}
	for i, secret := range []string{"JBSWY3DPEHPK3PXP", "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"} {
		want := store.TOTP{UserID: u.ID, Secret: secret, CreatedAt: accessTime.Add(time.Duration(i) * time.Minute)}
		if err := b.SetTOTP(ctx, want); err != nil {
			t.Fatalf("SetTOTP: %v", err)
		}
		got, err := b.TOTPByUser(ctx, u.ID)
		if err != nil {
			t.Fatalf("TOTPByUser: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("enrolment %d (-want +got):\n%s", i, diff)
		}
	}
	if err := b.DeleteTOTP(ctx, u.ID); err != nil {
		t.Fatalf("DeleteTOTP: %v", err)
	}
	if _, err := b.TOTPByUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TOTPByUser after DeleteTOTP: %v, want ErrNotFound", err)
	}
	if err := b.DeleteTOTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTOTP twice: %v, want ErrNotFound", err)
	}
	again := store.TOTP{UserID: u.ID, Secret: "GEZDGNBVGY3TQOJQ", CreatedAt: accessTime.Add(time.Hour)}
	if err := b.SetTOTP(ctx, again); err != nil {
		t.Fatalf("SetTOTP after removal: %v", err)
	}
	if got, err := b.TOTPByUser(ctx, u.ID); err != nil || got.Secret != again.Secret {
		t.Errorf("TOTPByUser after enrolling again: %+v, %v; want secret %s", got, err, again.Secret)
	}
	// Another user's factor is their own.
	other := newUser(nil)
	if err := b.AddUser(ctx, other); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	if _, err := b.TOTPByUser(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TOTPByUser of a user who never enrolled: %v, want ErrNotFound", err)
	}
}
