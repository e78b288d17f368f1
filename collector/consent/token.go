package consent

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// Errors of Verify and Sign. Verify returns them unwrapped, so that a failed
// check costs no allocation; ReasonOf maps them to a Reason.
var (
	ErrNoToken      = errors.New("consent: no token")
	ErrMalformed    = errors.New("consent: malformed token")
	ErrUnknownKey   = errors.New("consent: unknown signing key")
	ErrRetiredKey   = errors.New("consent: retired signing key")
	ErrBadSignature = errors.New("consent: bad token signature")
	ErrNoSigningKey = errors.New("consent: no active signing key")
	ErrClaims       = errors.New("consent: invalid claims")
)

// Token layout. The payload and signature have fixed lengths, so a valid
// token is always TokenLen bytes long; MaxTokenLen is the limit checked
// before anything is decoded.
const (
	MaxTokenLen = 256
	TokenLen    = signedLen + 1 + sigB64Len

	tokenPrefix   = "v1."
	payloadV1     = 1
	KeyIDLen      = 8
	secretLen     = 32
	payloadLen    = 1 + 16 + 4 + 1 + 4 + 4 + 4
	payloadB64Len = (payloadLen*8 + 5) / 6
	sigB64Len     = (sha256.Size*8 + 5) / 6
	signedLen     = len(tokenPrefix) + KeyIDLen + 1 + payloadB64Len

	// gpcFlag is the high bit of the categories byte: Claims.GPC. Tokens
	// signed before it existed read as GPC false.
	gpcFlag = 0x80
)

// b64 rejects non-zero trailing bits, so every payload and signature has
// exactly one valid spelling and a verified token re-signs to itself.
var b64 = base64.RawURLEncoding.Strict()

// Claims is what a consent token asserts. Times have second precision and
// are UTC; they must lie between 1970 and 2106 (unsigned 32-bit seconds).
type Claims struct {
	ConsentID     uuid.UUID
	SiteID        uint32
	Categories    store.Categories
	PolicyVersion uint32
	Issued        time.Time
	Expires       time.Time
	// GPC: Global Privacy Control was in force when the decision was made
	// (Sec-GPC, or navigator.globalPrivacyControl reported by the snippet),
	// so every event under this token is a GPC event.
	GPC bool
}

// NewKey returns a fresh random key created at now.
func NewKey(now time.Time) (store.ConsentKey, error) {
	var b [4 + secretLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return store.ConsentKey{}, fmt.Errorf("new consent key: %w", err)
	}
	return store.ConsentKey{ID: hex.EncodeToString(b[:4]), Secret: b[4:], Created: now.UTC()}, nil
}

// ringKey is a store.ConsentKey prepared for HMAC: the secret is kept only as the two
// padded key blocks of RFC 2104.
type ringKey struct {
	id         string
	created    time.Time
	retired    bool
	ipad, opad [sha256.BlockSize]byte
}

// mac is HMAC-SHA256 of a signed token prefix. It is crypto/hmac's
// construction written out over fixed-size arrays, so that it runs without
// allocating on the beacon path; the tests check it against crypto/hmac.
func (k *ringKey) mac(msg *[signedLen]byte) [sha256.Size]byte {
	var inner [sha256.BlockSize + signedLen]byte
	copy(inner[:], k.ipad[:])
	copy(inner[sha256.BlockSize:], msg[:])
	sum := sha256.Sum256(inner[:])
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], k.opad[:])
	copy(outer[sha256.BlockSize:], sum[:])
	return sha256.Sum256(outer[:])
}

// keySet is an immutable snapshot of a Keyring's keys.
type keySet struct {
	keys   []ringKey
	signer *ringKey // newest non-retired key, nil if none
}

func (s *keySet) lookup(id string) *ringKey {
	for i := range s.keys {
		if s.keys[i].id == id {
			return &s.keys[i]
		}
	}
	return nil
}

// Keyring signs and verifies tokens. It is safe for concurrent use; Replace
// swaps the whole key set atomically while Verify and Sign run.
type Keyring struct {
	set atomic.Pointer[keySet]
}

// NewKeyring returns a keyring holding keys. It may be empty: then Sign fails
// and every token is from an unknown key.
func NewKeyring(keys []store.ConsentKey) (*Keyring, error) {
	kr := new(Keyring)
	if err := kr.Replace(keys); err != nil {
		return nil, err
	}
	return kr, nil
}

// Replace makes keys the keyring's key set. On error the old set stays.
// Secrets are copied; the caller may reuse keys.
func (kr *Keyring) Replace(keys []store.ConsentKey) error {
	set := &keySet{keys: make([]ringKey, 0, len(keys))}
	var errs []error
	for _, k := range keys {
		if err := validKey(k); err != nil {
			errs = append(errs, err)
			continue
		}
		if set.lookup(k.ID) != nil {
			errs = append(errs, fmt.Errorf("consent key %q: duplicate id", k.ID))
			continue
		}
		rk := ringKey{id: k.ID, created: k.Created, retired: k.Retired}
		for i := range rk.ipad {
			rk.ipad[i], rk.opad[i] = 0x36, 0x5c
		}
		for i, b := range k.Secret {
			rk.ipad[i] ^= b
			rk.opad[i] ^= b
		}
		set.keys = append(set.keys, rk)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for i := range set.keys {
		k := &set.keys[i]
		if k.retired {
			continue
		}
		if s := set.signer; s == nil || cmp.Or(k.created.Compare(s.created), strings.Compare(k.id, s.id)) > 0 {
			set.signer = k
		}
	}
	kr.set.Store(set)
	return nil
}

func validKey(k store.ConsentKey) error {
	if len(k.ID) != KeyIDLen || strings.Trim(k.ID, "0123456789abcdef") != "" {
		return fmt.Errorf("consent key %q: id must be %d lowercase hex characters", k.ID, KeyIDLen)
	}
	if len(k.Secret) != secretLen {
		return fmt.Errorf("consent key %q: secret is %d bytes, want %d", k.ID, len(k.Secret), secretLen)
	}
	return nil
}

// Sign returns a token for c, signed with the newest non-retired key (by
// Created, then ID). Times are truncated to the second. The claims must name
// a consent, hold only known categories, and expire after they are issued.
func (kr *Keyring) Sign(c Claims) (string, error) {
	k := kr.set.Load().signer
	if k == nil {
		return "", ErrNoSigningKey
	}
	p, err := encodePayload(c)
	if err != nil {
		return "", err
	}
	var tok [TokenLen]byte
	n := copy(tok[:], tokenPrefix)
	n += copy(tok[n:], k.id)
	tok[n] = '.'
	b64.Encode(tok[n+1:signedLen], p[:])
	sig := k.mac((*[signedLen]byte)(tok[:signedLen]))
	tok[signedLen] = '.'
	b64.Encode(tok[signedLen+1:], sig[:])
	return string(tok[:]), nil
}

// encodePayload is the fixed binary form of c: version byte, consent id,
// site id, categories (with gpcFlag for GPC), policy version, issued and
// expires unix seconds, all big endian.
func encodePayload(c Claims) ([payloadLen]byte, error) {
	var p [payloadLen]byte
	issued, expires := c.Issued.Unix(), c.Expires.Unix()
	switch {
	case c.ConsentID == uuid.Nil:
		return p, fmt.Errorf("%w: no consent id", ErrClaims)
	case !c.Categories.Valid():
		return p, fmt.Errorf("%w: unknown category bits %#x", ErrClaims, uint8(c.Categories&^store.ConsentAll))
	case !fitsUint32(issued) || !fitsUint32(expires):
		return p, fmt.Errorf("%w: times must lie between 1970 and 2106", ErrClaims)
	case expires <= issued:
		return p, fmt.Errorf("%w: expires is not after issued", ErrClaims)
	}
	p[0] = payloadV1
	copy(p[1:17], c.ConsentID[:])
	binary.BigEndian.PutUint32(p[17:21], c.SiteID)
	p[21] = byte(c.Categories)
	if c.GPC {
		p[21] |= gpcFlag
	}
	binary.BigEndian.PutUint32(p[22:26], c.PolicyVersion)
	binary.BigEndian.PutUint32(p[26:30], uint32(issued))
	binary.BigEndian.PutUint32(p[30:34], uint32(expires))
	return p, nil
}

// decodePayload is the inverse of encodePayload. It accepts exactly the
// payloads encodePayload can produce, so a verified token re-signs to itself.
func decodePayload(p *[payloadLen]byte) (Claims, bool) {
	c := Claims{
		ConsentID:     uuid.UUID(p[1:17]),
		SiteID:        binary.BigEndian.Uint32(p[17:21]),
		Categories:    store.Categories(p[21] &^ gpcFlag),
		GPC:           p[21]&gpcFlag != 0,
		PolicyVersion: binary.BigEndian.Uint32(p[22:26]),
	}
	issued, expires := binary.BigEndian.Uint32(p[26:30]), binary.BigEndian.Uint32(p[30:34])
	if p[0] != payloadV1 || c.ConsentID == uuid.Nil || !c.Categories.Valid() || expires <= issued {
		return Claims{}, false
	}
	c.Issued = time.Unix(int64(issued), 0).UTC()
	c.Expires = time.Unix(int64(expires), 0).UTC()
	return c, true
}

func fitsUint32(sec int64) bool { return sec >= 0 && sec <= math.MaxUint32 }

// Verify checks a token's encoding and signature and returns its claims. It
// does not judge them: expiry, site and policy version are Check's. A token
// of a retired key never verifies; one of an older, still active key does.
func (kr *Keyring) Verify(token string) (Claims, error) {
	return kr.verify(token, false)
}

// VerifyOwnership is Verify that also accepts a token of a retired key. It
// proves only that the holder owns the consent id, for a visitor seeing,
// erasing or withdrawing their own data, which retiring a key must never
// prevent. It must not decide whether an event is collected or a token
// renewed.
func (kr *Keyring) VerifyOwnership(token string) (Claims, error) {
	return kr.verify(token, true)
}

func (kr *Keyring) verify(token string, retiredOK bool) (Claims, error) {
	switch {
	case token == "":
		return Claims{}, ErrNoToken
	case len(token) > MaxTokenLen:
		return Claims{}, ErrMalformed
	}
	// Split "v1.<kid>.<payload>.<sig>" by hand: no strings.Split allocation.
	kidEnd := dotAfter(token, len(tokenPrefix))
	payloadEnd := dotAfter(token, kidEnd+1)
	if !strings.HasPrefix(token, tokenPrefix) || kidEnd < 0 || payloadEnd < 0 || strings.IndexByte(token[payloadEnd+1:], '.') >= 0 {
		return Claims{}, ErrMalformed
	}
	k := kr.set.Load().lookup(token[len(tokenPrefix):kidEnd])
	switch {
	case k == nil:
		return Claims{}, ErrUnknownKey
	case k.retired && !retiredOK:
		return Claims{}, ErrRetiredKey
	case kidEnd != len(tokenPrefix)+KeyIDLen || payloadEnd != signedLen || len(token) != TokenLen:
		return Claims{}, ErrMalformed
	}
	var signed [signedLen]byte
	copy(signed[:], token)
	var p [payloadLen]byte
	var sig [sha256.Size]byte
	if n, err := b64.Decode(p[:], signed[kidEnd+1:]); err != nil || n != payloadLen {
		return Claims{}, ErrMalformed
	}
	var enc [sigB64Len]byte
	copy(enc[:], token[signedLen+1:])
	if n, err := b64.Decode(sig[:], enc[:]); err != nil || n != sha256.Size {
		return Claims{}, ErrMalformed
	}
	if want := k.mac(&signed); subtle.ConstantTimeCompare(sig[:], want[:]) != 1 {
		return Claims{}, ErrBadSignature
	}
	c, ok := decodePayload(&p)
	if !ok {
		return Claims{}, ErrMalformed
	}
	return c, nil
}

// dotAfter returns the index of the first '.' in s at or after i, or -1.
func dotAfter(s string, i int) int {
	if i < 0 || i > len(s) {
		return -1
	}
	if j := strings.IndexByte(s[i:], '.'); j >= 0 {
		return i + j
	}
	return -1
}

// Reason is why a beacon's consent token does not allow storing its event,
// in words fit for a metrics label. OK is the empty reason.
type Reason string

// The reasons.
const (
	OK           Reason = ""
	NoToken      Reason = "no_token"
	Malformed    Reason = "malformed"
	UnknownKey   Reason = "unknown_key"
	BadSignature Reason = "bad_signature"
	WrongSite    Reason = "wrong_site"
	Expired      Reason = "expired"
	OldPolicy    Reason = "old_policy"
	BadClaims    Reason = "bad_claims"
	Withdrawn    Reason = "withdrawn"
	NoAnalytics  Reason = "no_analytics"
)

// ReasonOf maps an error of Verify to its Reason: nil is OK, a retired key is
// UnknownKey, anything unrecognised Malformed.
func ReasonOf(err error) Reason {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrNoToken):
		return NoToken
	case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrRetiredKey):
		return UnknownKey
	case errors.Is(err, ErrBadSignature):
		return BadSignature
	}
	return Malformed
}

// Policy is a site's current consent policy.
type Policy struct {
	Version uint32        // tokens of an older policy version must ask again
	MaxAge  time.Duration // consent older than this must ask again; 0: no limit
}

// MaxClockSkew is how far in the future a token's issue time may lie: the
// replica that signed it may run a little ahead. A later one was not signed
// by a collector (a forged token) and is refused.
const MaxClockSkew = 5 * time.Minute

// Check returns why verified claims do not allow a beacon of siteID at now:
// WrongSite, Expired (now at or after Expires, or Issued more than MaxAge
// ago), OldPolicy (a PolicyVersion below p.Version) or BadClaims (issued
// more than MaxClockSkew after now, or a policy version above the current
// one: no collector signs those); OK otherwise.
func Check(c Claims, siteID uint32, p Policy, now time.Time) Reason {
	switch {
	case c.SiteID != siteID:
		return WrongSite
	case c.Issued.After(now.Add(MaxClockSkew)), c.PolicyVersion > p.Version:
		return BadClaims
	case !now.Before(c.Expires), p.MaxAge > 0 && now.Sub(c.Issued) > p.MaxAge:
		return Expired
	case c.PolicyVersion < p.Version:
		return OldPolicy
	}
	return OK
}

// Gate decides whether a beacon carrying token may be stored: NoToken for an
// empty token, Verify's reason, Check's, Withdrawn if the latest decision of
// the consent id withdrew it, NoAnalytics without the analytics category,
// else OK. head reports the latest decision known for a consent id (head
// may be nil): a token issued up to its time grants at most what it grants,
// so an update that narrows consent binds the older tokens too. A token
// issued after it comes from a newer decision not learnt yet. The claims are
// returned, with Categories so narrowed, whenever the token verified, so
// that the caller can use the consent id even when it is refused.
func Gate(kr *Keyring, token string, siteID uint32, p Policy, head func(uuid.UUID) (store.ConsentHead, bool), now time.Time) (Claims, Reason) {
	c, err := kr.Verify(token)
	if err != nil {
		return Claims{}, ReasonOf(err)
	}
	if r := Check(c, siteID, p, now); r != OK {
		return c, r
	}
	if head != nil {
		if h, ok := head(c.ConsentID); ok {
			if h.Withdrawn {
				return c, Withdrawn
			}
			if !c.Issued.After(h.Time) {
				c.Categories &= h.Granted
			}
		}
	}
	if !c.Categories.Has(store.ConsentAnalytics) {
		return c, NoAnalytics
	}
	return c, OK
}
