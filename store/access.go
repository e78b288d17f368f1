package store

import (
	"errors"
	"time"
)

// The rows of access control: who may read reports (users, API tokens) and
// the dashboard's sessions. What they mean and how they are checked is in
// web/auth; the store keeps them. No row holds a password, a token or a
// session id: only their hashes.

// ErrUserExists is returned by AddUser for an e-mail address that already
// belongs to a user.
var ErrUserExists = errors.New("user already exists")

// User is a person who signs in to the dashboard.
type User struct {
	ID           string   // random, 16 hex digits
	Email        string   // lower case; unique among users
	PasswordHash string   // argon2id, encoded with its parameters and salt
	Role         string   // admin, analyst or partner
	Partner      string   // the partner a partner user belongs to; "" for other roles
	Sites        []uint32 // site scope: nil is every site, present and future; else only these
	CreatedAt    time.Time
}

// TOTP is a user's second sign-in factor: the secret they share with an
// authenticator app (RFC 6238 time-based one-time passwords). A user with
// one must give its current code at login. The secret is needed in clear
// to check a code, so it is stored as given, like the consent keys: keep
// the store's files and grants closed.
type TOTP struct {
	UserID    string
	Secret    string // base32, as authenticator apps read it
	CreatedAt time.Time
}

// Token is an API token. The token itself is shown once when it is created;
// the store keeps the SHA-256 of its secret part.
type Token struct {
	ID         string   // random, 16 hex digits; the public part of the token
	SecretHash string   // hex SHA-256 of the secret part
	Name       string   // a label chosen by whoever created it
	Role       string   // admin, analyst or partner
	Partner    string   // the partner a partner token belongs to; "" for other roles
	Sites      []uint32 // site scope: nil is every site, present and future; else only these
	CreatedAt  time.Time
	LastUsed   time.Time // zero: never used (updated at most hourly)
	RevokedAt  time.Time // zero: not revoked
}

// Revoked reports whether the token has been revoked.
func (t Token) Revoked() bool { return !t.RevokedAt.IsZero() }

// Session is a signed-in user's dashboard session. It ends at ExpiresAt
// (moved forward while the session is used) or when it is deleted.
type Session struct {
	ID        string // hex SHA-256 of the cookie's secret; the secret is never stored
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}
