package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/footfall/footfall/store"
)

// An API token reads ff_<id>_<secret>: the id is 16 hex digits, public,
// what footfall token list shows and revoke takes; the secret is 32 random
// bytes in lower-case base32 (52 characters). The store keeps the SHA-256
// of the secret; the token is shown once, when it is created.
const (
	tokenPrefix    = "ff_"
	tokenIDLen     = 16
	tokenSecretLen = 52
	// TokenLen is the length of every API token.
	TokenLen = len(tokenPrefix) + tokenIDLen + 1 + tokenSecretLen
)

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// TokenSpec is what a new API token may do.
type TokenSpec struct {
	Role    Role
	Partner string   // required for role partner, refused for the others
	Sites   []uint32 // nil: every site
	Name    string   // an optional label, such as what the token is for
}

// NewToken makes a token to store and the token to show its owner, once.
func NewToken(spec TokenSpec, now time.Time) (store.Token, string, error) {
	if err := ValidateGrant(spec.Role, spec.Partner, spec.Sites); err != nil {
		return store.Token{}, "", err
	}
	if err := checkLabel(spec.Name); err != nil {
		return store.Token{}, "", err
	}
	var raw [8 + 32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return store.Token{}, "", fmt.Errorf("new token: %w", err)
	}
	id := hex.EncodeToString(raw[:8])
	secret := tokenEncoding.EncodeToString(raw[8:])
	sum := sha256.Sum256([]byte(secret))
	t := store.Token{
		ID: id, SecretHash: hex.EncodeToString(sum[:]), Name: spec.Name,
		Role: string(spec.Role), Partner: spec.Partner, Sites: spec.Sites,
		CreatedAt: now.UTC().Truncate(time.Second),
	}
	return t, tokenPrefix + id + "_" + secret, nil
}

// parseToken splits a token into its id and secret, checking its shape
// before anything is looked up.
func parseToken(s string) (id, secret string, ok bool) {
	if len(s) != TokenLen || s[:len(tokenPrefix)] != tokenPrefix || s[len(tokenPrefix)+tokenIDLen] != '_' {
		return "", "", false
	}
	id = s[len(tokenPrefix) : len(tokenPrefix)+tokenIDLen]
	secret = s[len(tokenPrefix)+tokenIDLen+1:]
	if !tokenID.MatchString(id) || !tokenSecret.MatchString(secret) {
		return "", "", false
	}
	return id, secret, true
}

var (
	tokenID     = regexp.MustCompile(`^[0-9a-f]{16}$`)
	tokenSecret = regexp.MustCompile(`^[a-z2-7]{52}$`)
)

// ValidTokenID reports whether s has the shape of a token id.
func ValidTokenID(s string) bool { return tokenID.MatchString(s) }

// partnerName is a partner's name, as config.Partner.Name.
var partnerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidateGrant checks a role, partner and site scope given to a user or a
// token: a known role; a partner name for role partner and only for it; a
// scope of every site (nil) or of at least one.
func ValidateGrant(role Role, partner string, sites []uint32) error {
	var errs []error
	if _, err := ParseRole(string(role)); err != nil {
		errs = append(errs, fmt.Errorf("role: %w", err))
	}
	switch {
	case role == RolePartner && partner == "":
		errs = append(errs, errors.New("partner: required for role partner"))
	case role == RolePartner && !partnerName.MatchString(partner):
		errs = append(errs, fmt.Errorf("partner: %q is not a name of lower-case letters, digits, '-' and '_'", partner))
	case role != RolePartner && partner != "":
		errs = append(errs, fmt.Errorf("partner: only for role partner, not %s", role))
	}
	if sites != nil && len(sites) == 0 {
		errs = append(errs, errors.New("sites: an empty scope would allow nothing; give sites, or none for every site"))
	}
	return errors.Join(errs...)
}

func checkLabel(s string) error {
	if len(s) > 100 || !utf8.ValidString(s) {
		return errors.New("name: want at most 100 bytes of UTF-8")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("name: %q holds a control character", s)
		}
	}
	return nil
}
