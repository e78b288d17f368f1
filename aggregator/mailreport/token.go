package mailreport

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/footfall/footfall/store"
)

// Errors of Tokens.Verify.
var (
	ErrMalformed    = errors.New("unsubscribe link: malformed")
	ErrUnknownKey   = errors.New("unsubscribe link: unknown key")
	ErrBadSignature = errors.New("unsubscribe link: bad signature")
)

// Unsubscribe is what an unsubscribe link's token carries: the site and the
// recipient (by store.RecipientHash, never the address).
type Unsubscribe struct {
	SiteID    uint32
	Domain    string
	Recipient string
}

const (
	tokenPrefix   = "u1."
	maxTokenLen   = 1024
	recipientSize = 16 // bytes of a RecipientHash
	// reloadEvery bounds how often a token naming an unknown key makes
	// Verify read the keys again (a key another process created since).
	reloadEvery = 10 * time.Second
)

var b64 = base64.RawURLEncoding.Strict()

// KeyReader reads the report keys.
type KeyReader interface {
	ReportKeys(ctx context.Context) ([]store.ReportKey, error)
}

// KeyStore reads and adds report keys.
type KeyStore interface {
	KeyReader
	AddReportKey(ctx context.Context, k store.ReportKey) error
}

// Tokens signs and verifies unsubscribe tokens under the store's report
// keys: the oldest signs, any verifies. Safe for concurrent use.
type Tokens struct {
	st KeyReader

	mu     sync.Mutex
	keys   []store.ReportKey
	loaded time.Time
}

// NewTokens returns Tokens reading keys from st when first needed.
func NewTokens(st KeyReader) *Tokens { return &Tokens{st: st} }

// EnsureKey creates a report key when the store has none. Two processes
// doing it at once both add one; the oldest signs from then on.
func EnsureKey(ctx context.Context, st KeyStore, now time.Time) error {
	keys, err := st.ReportKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	k := store.ReportKey{Secret: make([]byte, 32), Created: now.UTC().Truncate(time.Second)}
	id := make([]byte, 4)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("create report key: %w", err)
	}
	if _, err := rand.Read(k.Secret); err != nil {
		return fmt.Errorf("create report key: %w", err)
	}
	k.ID = hex.EncodeToString(id)
	return st.AddReportKey(ctx, k)
}

// load reads the keys if never read, or if force and the last read is
// older than reloadEvery.
func (t *Tokens) load(ctx context.Context, force bool) ([]store.ReportKey, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil || force && time.Since(t.loaded) > reloadEvery {
		keys, err := t.st.ReportKeys(ctx)
		if err != nil {
			return nil, err
		}
		t.keys, t.loaded = keys, time.Now()
	}
	return t.keys, nil
}

// Sign returns the token of u under the oldest report key.
func (t *Tokens) Sign(ctx context.Context, u Unsubscribe) (string, error) {
	rh, err := hex.DecodeString(u.Recipient)
	if err != nil || len(rh) != recipientSize || u.SiteID == 0 || u.Domain == "" || len(u.Domain) > 253 {
		return "", fmt.Errorf("unsubscribe link: bad site or recipient")
	}
	keys, err := t.load(ctx, false)
	if err != nil {
		return "", err
	}
	if len(keys) == 0 {
		return "", ErrUnknownKey
	}
	k := keys[0]
	payload := binary.BigEndian.AppendUint32(nil, u.SiteID)
	payload = append(append(payload, rh...), u.Domain...)
	signed := tokenPrefix + k.ID + "." + b64.EncodeToString(payload)
	return signed + "." + b64.EncodeToString(mac(k.Secret, signed)), nil
}

// Verify returns what a token carries if a report key signed it.
func (t *Tokens) Verify(ctx context.Context, token string) (Unsubscribe, error) {
	if len(token) > maxTokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return Unsubscribe{}, ErrMalformed
	}
	dot := strings.LastIndexByte(token, '.')
	kid, payload, ok := strings.Cut(token[len(tokenPrefix):max(dot, len(tokenPrefix))], ".")
	if !ok || kid == "" {
		return Unsubscribe{}, ErrMalformed
	}
	find := func(keys []store.ReportKey) *store.ReportKey {
		for i := range keys {
			if keys[i].ID == kid {
				return &keys[i]
			}
		}
		return nil
	}
	keys, err := t.load(ctx, false)
	if err != nil {
		return Unsubscribe{}, err
	}
	k := find(keys)
	if k == nil {
		if keys, err = t.load(ctx, true); err != nil {
			return Unsubscribe{}, err
		}
		if k = find(keys); k == nil {
			return Unsubscribe{}, ErrUnknownKey
		}
	}
	sig, err := b64.DecodeString(token[dot+1:])
	if err != nil || len(sig) != sha256.Size {
		return Unsubscribe{}, ErrMalformed
	}
	if subtle.ConstantTimeCompare(sig, mac(k.Secret, token[:dot])) != 1 {
		return Unsubscribe{}, ErrBadSignature
	}
	raw, err := b64.DecodeString(payload)
	if err != nil || len(raw) <= 4+recipientSize {
		return Unsubscribe{}, ErrMalformed
	}
	return Unsubscribe{
		SiteID:    binary.BigEndian.Uint32(raw),
		Recipient: hex.EncodeToString(raw[4 : 4+recipientSize]),
		Domain:    string(raw[4+recipientSize:]),
	}, nil
}

func mac(secret []byte, msg string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("footfall report unsubscribe v1\n"))
	m.Write([]byte(msg))
	return m.Sum(nil)
}
