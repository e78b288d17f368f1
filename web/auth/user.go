package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/footfall/footfall/store"
)

// UserSpec is who a new user is and what they may do.
type UserSpec struct {
	Email   string
	Role    Role
	Partner string   // required for role partner, refused for the others
	Sites   []uint32 // nil: every site
}

// NewUser makes a user to store, with password hashed. A password easy to
// guess is refused (CheckPasswordStrength).
func NewUser(spec UserSpec, password string, now time.Time) (store.User, error) {
	email, err := NormalizeEmail(spec.Email)
	if err != nil {
		return store.User{}, err
	}
	if err := ValidateGrant(spec.Role, spec.Partner, spec.Sites); err != nil {
		return store.User{}, err
	}
	if err := CheckPasswordStrength(password, email); err != nil {
		return store.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return store.User{}, fmt.Errorf("new user: %w", err)
	}
	return store.User{
		ID: hex.EncodeToString(raw[:]), Email: email, PasswordHash: hash,
		Role: string(spec.Role), Partner: spec.Partner, Sites: spec.Sites,
		CreatedAt: now.UTC().Truncate(time.Second),
	}, nil
}

// NormalizeEmail trims and lower-cases an e-mail address and checks its
// shape: one @ between a non-empty local part and a domain, no spaces or
// control characters, at most 254 bytes.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(e) > 254 ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", fmt.Errorf("e-mail: %q is not an address like name@example.com", s)
	}
	for _, r := range e {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "", fmt.Errorf("e-mail: %q holds a space or a control character", s)
		}
	}
	return e, nil
}
