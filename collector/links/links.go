// Package links signs and verifies the tokens of e-mail beacons: the open
// pixel (/p/{token}.gif) and the tracked click (/r/{token}). A token binds
// the site, campaign, link id, target URL and the subscriber's consent
// flags under an HMAC, so a changed target can never become an open
// redirect. Link keys are derived from the consent signing keys (same
// rotation and retirement), under a label of their own.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/store"
)

// Errors of Verify.
var (
	ErrMalformed    = errors.New("links: malformed token")
	ErrUnknownKey   = errors.New("links: unknown or retired key")
	ErrBadSignature = errors.New("links: bad signature")
)

const (
	prefix      = "l1."
	maxField    = 2048
	maxTokenLen = 4096
)

var b64 = base64.RawURLEncoding.Strict()

// Link is what a token carries.
type Link struct {
	SiteID   uint32
	Campaign string
	LinkID   string
	Target   string // absolute http(s) URL; empty for an open pixel
	Consent  store.Categories
	// Expires ends the tracking: after it the link still redirects, but
	// nothing is recorded. Second precision. Tokens signed before expiry
	// existed have none and are no longer recorded.
	Expires time.Time
	// Subscriber is an opaque reference to the subscriber the newsletter
	// tool knows (its id or a hash of it, never an address): events are
	// stored under the user id "subscriber:"+Subscriber, where erasure and
	// access requests by user id find them. Optional.
	Subscriber string
}

// How long a link is tracked, in days: by default, and at most.
const (
	DefaultDays = 90
	MaxDays     = 400
)

// MaxSubscriberLen bounds Link.Subscriber: with its "subscriber:" prefix
// it fits an event's user id.
const MaxSubscriberLen = 100

// Validate checks the fields a signer may put in a token.
func (l Link) Validate() error {
	switch {
	case l.SiteID == 0:
		return errors.New("site is required")
	case l.Campaign == "" || len(l.Campaign) > 128:
		return errors.New("campaign: 1 to 128 bytes")
	case len(l.LinkID) > 128:
		return errors.New("link id: at most 128 bytes")
	case len(l.Target) > maxField:
		return fmt.Errorf("target: at most %d bytes", maxField)
	case !l.Consent.Valid():
		return errors.New("consent: unknown categories")
	case len(l.Subscriber) > MaxSubscriberLen:
		return fmt.Errorf("subscriber: at most %d bytes", MaxSubscriberLen)
	case !l.Expires.IsZero() && l.Expires.Unix() <= 0:
		return errors.New("expires: before 1970")
	}
	if l.Target != "" {
		u, err := url.Parse(l.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("target: want an absolute http(s) URL")
		}
	}
	return nil
}

type linkKey struct {
	id      string
	secret  []byte // derived: HMAC(consent key secret, "footfall link key v1")
	retired bool
}

// Signer signs and verifies link tokens; safe for concurrent use.
type Signer struct {
	keys atomic.Pointer[[]linkKey]
}

// NewSigner returns a signer over the consent keys.
func NewSigner(keys []store.ConsentKey) *Signer {
	s := &Signer{}
	s.Replace(keys)
	return s
}

// Replace takes a new set of consent keys (after a rotation or retirement).
func (s *Signer) Replace(keys []store.ConsentKey) {
	out := make([]linkKey, 0, len(keys))
	for _, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("footfall link key v1"))
		out = append(out, linkKey{id: k.ID, secret: m.Sum(nil), retired: k.Retired})
	}
	s.keys.Store(&out)
}

// Sign returns a token for l under the newest key that is not retired
// (the last in the list given to Replace).
func (s *Signer) Sign(l Link) (string, error) {
	if err := l.Validate(); err != nil {
		return "", err
	}
	if l.Expires.IsZero() {
		return "", errors.New("expires: required")
	}
	keys := *s.keys.Load()
	var k *linkKey
	for i := range keys {
		if !keys[i].retired {
			k = &keys[i]
		}
	}
	if k == nil {
		return "", ErrUnknownKey
	}
	signed := prefix + k.id + "." + b64.EncodeToString(encode(l))
	return signed + "." + b64.EncodeToString(mac(k.secret, signed)), nil
}

// Verify returns the link a token carries if its signature holds under a
// key that is not retired.
func (s *Signer) Verify(token string) (Link, error) {
	if len(token) > maxTokenLen || !strings.HasPrefix(token, prefix) {
		return Link{}, ErrMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	if dot <= len(prefix) {
		return Link{}, ErrMalformed
	}
	kid, payload, ok := strings.Cut(token[len(prefix):dot], ".")
	if !ok {
		return Link{}, ErrMalformed
	}
	var k *linkKey
	for _, lk := range *s.keys.Load() {
		if lk.id == kid && !lk.retired {
			k = &lk
			break
		}
	}
	if k == nil {
		return Link{}, ErrUnknownKey
	}
	sig, err := b64.DecodeString(token[dot+1:])
	if err != nil || len(sig) != sha256.Size {
		return Link{}, ErrMalformed
	}
	if subtle.ConstantTimeCompare(sig, mac(k.secret, token[:dot])) != 1 {
		return Link{}, ErrBadSignature
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return Link{}, ErrMalformed
	}
	l, err := decode(raw)
	if err != nil {
		return Link{}, ErrMalformed
	}
	return l, nil
}

func mac(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// encode: site id (4), consent (1), then campaign, link id and target, each
// with a 2-byte length; then, unless Expires is zero (tokens made before it
// existed end there), expires as 8-byte unix seconds and the subscriber
// with a 2-byte length.
func encode(l Link) []byte {
	b := binary.BigEndian.AppendUint32(nil, l.SiteID)
	b = append(b, byte(l.Consent))
	for _, s := range []string{l.Campaign, l.LinkID, l.Target} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	if !l.Expires.IsZero() {
		b = binary.BigEndian.AppendUint64(b, uint64(l.Expires.Unix()))
		b = binary.BigEndian.AppendUint16(b, uint16(len(l.Subscriber)))
		b = append(b, l.Subscriber...)
	}
	return b
}

func decode(b []byte) (Link, error) {
	if len(b) < 5 {
		return Link{}, ErrMalformed
	}
	l := Link{SiteID: binary.BigEndian.Uint32(b), Consent: store.Categories(b[4])}
	b = b[5:]
	for _, dst := range []*string{&l.Campaign, &l.LinkID, &l.Target} {
		if len(b) < 2 {
			return Link{}, ErrMalformed
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return Link{}, ErrMalformed
		}
		*dst, b = string(b[2:2+n]), b[2+n:]
	}
	if len(b) > 0 {
		if len(b) < 10 {
			return Link{}, ErrMalformed
		}
		sec := binary.BigEndian.Uint64(b)
		n := int(binary.BigEndian.Uint16(b[8:]))
		if sec == 0 || sec > math.MaxInt64 || len(b) != 10+n {
			return Link{}, ErrMalformed
		}
		l.Expires, l.Subscriber, b = time.Unix(int64(sec), 0).UTC(), string(b[10:]), nil
	}
	if l.Validate() != nil {
		return Link{}, ErrMalformed
	}
	return l, nil
}
