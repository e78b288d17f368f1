package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testKey returns a deterministic key: its secret is 32 bytes of seed.
func testKey(id string, seed byte, created time.Time, retired bool) store.ConsentKey {
	return store.ConsentKey{ID: id, Secret: bytes.Repeat([]byte{seed}, secretLen), Created: created, Retired: retired}
}

func newTestKeyring(t testing.TB, keys ...store.ConsentKey) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func testClaims() Claims {
	return Claims{
		ConsentID:     uuid.MustParse("0b5c7c1e-4a8e-4f3b-9c1d-2e6f7a8b9c0d"),
		SiteID:        42,
		Categories:    store.ConsentAnalytics | store.ConsentMarketing,
		PolicyVersion: 3,
		Issued:        t0,
		Expires:       t0.Add(395 * 24 * time.Hour),
	}
}

func mustSign(t testing.TB, kr *Keyring, c Claims) string {
	t.Helper()
	tok, err := kr.Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

func TestTokenRoundTrip(t *testing.T) {
	kr := newTestKeyring(t, testKey("0a0a0a0a", 'a', t0, false))
	for _, tc := range []struct {
		name string
		in   Claims
		want Claims
	}{
		{"all fields", testClaims(), testClaims()},
		{"sub-second times are truncated", func() Claims {
			c := testClaims()
			c.Issued = c.Issued.Add(999 * time.Millisecond)
			return c
		}(), testClaims()},
		{"local times come back UTC", func() Claims {
			c := testClaims()
			c.Issued = c.Issued.In(time.FixedZone("CET", 3600))
			return c
		}(), testClaims()},
		{"decided under GPC", func() Claims {
			c := testClaims()
			c.GPC = true
			return c
		}(), func() Claims {
			c := testClaims()
			c.GPC = true
			return c
		}()},
		{"no categories, extreme values", Claims{
			ConsentID: uuid.Max, SiteID: 1<<32 - 1, PolicyVersion: 1<<32 - 1,
			Issued: time.Unix(0, 0).UTC(), Expires: time.Unix(1<<32-1, 0).UTC(),
		}, Claims{
			ConsentID: uuid.Max, SiteID: 1<<32 - 1, PolicyVersion: 1<<32 - 1,
			Issued: time.Unix(0, 0).UTC(), Expires: time.Unix(1<<32-1, 0).UTC(),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := mustSign(t, kr, tc.in)
			if len(tok) != TokenLen {
				t.Errorf("len(token) = %d, want %d", len(tok), TokenLen)
			}
			if !strings.HasPrefix(tok, "v1.0a0a0a0a.") {
				t.Errorf("token %q, want prefix v1.0a0a0a0a.", tok)
			}
			got, err := kr.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if got.Issued.Location() != time.UTC || got.Expires.Location() != time.UTC {
				t.Errorf("times not UTC: %v, %v", got.Issued, got.Expires)
			}
		})
	}
}

func TestSignRejectsInvalidClaims(t *testing.T) {
	kr := newTestKeyring(t, testKey("0a0a0a0a", 'a', t0, false))
	for _, tc := range []struct {
		name   string
		mutate func(*Claims)
	}{
		{"nil consent id", func(c *Claims) { c.ConsentID = uuid.Nil }},
		{"unknown category bit", func(c *Claims) { c.Categories |= 8 }},
		{"issued before 1970", func(c *Claims) { c.Issued = time.Unix(-1, 0) }},
		{"expires after 2106", func(c *Claims) { c.Expires = time.Unix(1<<32, 0) }},
		{"expires equals issued", func(c *Claims) { c.Expires = c.Issued }},
		{"expires before issued", func(c *Claims) { c.Expires = c.Issued.Add(-time.Second) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testClaims()
			tc.mutate(&c)
			tok, err := kr.Sign(c)
			if !errors.Is(err, ErrClaims) {
				t.Errorf("Sign = %q, %v; want ErrClaims", tok, err)
			}
		})
	}
	empty := newTestKeyring(t)
	if _, err := empty.Sign(testClaims()); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("Sign on empty keyring: got %v, want ErrNoSigningKey", err)
	}
	retired := newTestKeyring(t, testKey("0a0a0a0a", 'a', t0, true))
	if _, err := retired.Sign(testClaims()); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("Sign with only a retired key: got %v, want ErrNoSigningKey", err)
	}
}

// tamper returns tok with part i (0 version, 1 kid, 2 payload, 3 sig)
// replaced by f(part).
func tamper(tok string, i int, f func(string) string) string {
	parts := strings.Split(tok, ".")
	parts[i] = f(parts[i])
	return strings.Join(parts, ".")
}

// flipPayloadByte flips the bits of byte i of an encoded payload.
func flipPayloadByte(i int) func(string) string {
	return func(s string) string {
		p, err := b64.DecodeString(s)
		if err != nil {
			panic(err)
		}
		p[i] ^= 0xff
		return b64.EncodeToString(p)
	}
}

func TestVerifyRejects(t *testing.T) {
	kr := newTestKeyring(t,
		testKey("0a0a0a0a", 'a', t0, false),
		testKey("0b0b0b0b", 'b', t0.Add(-time.Hour), false),
		testKey("0c0c0c0c", 'c', t0.Add(-2*time.Hour), true),
	)
	tok := mustSign(t, kr, testClaims())
	retiredTok := mustSign(t, newTestKeyring(t, testKey("0c0c0c0c", 'c', t0, false)), testClaims())
	randomSig := make([]byte, sha256.Size)
	if _, err := rand.Read(randomSig); err != nil {
		t.Fatal(err)
	}

	type row struct {
		name  string
		token string
		want  error
	}
	rows := []row{
		{"empty", "", ErrNoToken},
		{"forged signature", tamper(tok, 3, func(string) string { return b64.EncodeToString(randomSig) }), ErrBadSignature},
		{"signature of another key", tamper(tok, 1, func(string) string { return "0b0b0b0b" }), ErrBadSignature},
		{"unknown kid", tamper(tok, 1, func(string) string { return "0d0d0d0d" }), ErrUnknownKey},
		{"empty kid", tamper(tok, 1, func(string) string { return "" }), ErrUnknownKey},
		{"upper-case kid", tamper(tok, 1, strings.ToUpper), ErrUnknownKey},
		{"retired kid", retiredTok, ErrRetiredKey},
		{"version v2", tamper(tok, 0, func(string) string { return "v2" }), ErrMalformed},
		{"extra part", tok + ".x", ErrMalformed},
		{"three parts", strings.Join(strings.Split(tok, ".")[:3], "."), ErrMalformed},
		{"padded signature", tok + "=", ErrMalformed},
		{"bad base64 in payload", tamper(tok, 2, func(s string) string { return "*" + s[1:] }), ErrMalformed},
		{"bad base64 in signature", tamper(tok, 3, func(s string) string { return s[:10] + "+" + s[11:] }), ErrMalformed},
		{"standard base64 alphabet", tamper(tok, 3, func(s string) string { return s[:10] + "/" + s[11:] }), ErrMalformed},
		// The last character of a 32-byte signature carries 2 spare bits;
		// a non-canonical spelling must not verify.
		{"non-canonical signature", tamper(tok, 3, func(s string) string {
			last := strings.IndexByte(b64alphabet, s[len(s)-1])
			return s[:len(s)-1] + string(b64alphabet[last^1])
		}), ErrMalformed},
		{"payload too short", tamper(tok, 2, func(s string) string { return s[:44] }), ErrMalformed},
		{"payload too long", tamper(tok, 2, func(s string) string { return s + "AAAA" }), ErrMalformed},
		{"over max length", tok + strings.Repeat("A", MaxTokenLen-len(tok)+1), ErrMalformed},
	}
	for i := range payloadLen {
		rows = append(rows, row{fmt.Sprintf("flipped payload byte %d", i), tamper(tok, 2, flipPayloadByte(i)), ErrBadSignature})
	}
	for n := 1; n < len(tok); n++ {
		rows = append(rows, row{fmt.Sprintf("truncated to %d", n), tok[:n], ErrMalformed})
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kr.Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify(%q) error = %v, want %v", tc.token, err, tc.want)
			}
			if diff := cmp.Diff(Claims{}, got); diff != "" {
				t.Errorf("claims of a rejected token (-want +got):\n%s", diff)
			}
		})
	}
}

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestVerifyRejectsUnsignablePayloads signs payloads that Sign never
// produces with the right key: Verify must still refuse them.
func TestVerifyRejectsUnsignablePayloads(t *testing.T) {
	key := testKey("0a0a0a0a", 'a', t0, false)
	kr := newTestKeyring(t, key)
	good, err := encodePayload(testClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(p []byte)
	}{
		{"version 0", func(p []byte) { p[0] = 0 }},
		{"version 2", func(p []byte) { p[0] = 2 }},
		{"nil consent id", func(p []byte) { clear(p[1:17]) }},
		{"unknown category bit", func(p []byte) { p[21] |= 0x40 }},
		{"expires equals issued", func(p []byte) { copy(p[30:34], p[26:30]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.mutate(p[:])
			tok := signRaw(key, p[:])
			if c, err := kr.Verify(tok); !errors.Is(err, ErrMalformed) {
				t.Errorf("Verify = %+v, %v; want ErrMalformed", c, err)
			}
		})
	}
}

// signRaw builds a token around an arbitrary payload, signed with
// crypto/hmac rather than the package's own HMAC.
func signRaw(k store.ConsentKey, payload []byte) string {
	signed := tokenPrefix + k.ID + "." + b64.EncodeToString(payload)
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte(signed))
	return signed + "." + b64.EncodeToString(m.Sum(nil))
}

func TestMACMatchesCryptoHMAC(t *testing.T) {
	for i := range 100 {
		var k store.ConsentKey
		k.ID = fmt.Sprintf("%08x", i)
		k.Secret = make([]byte, secretLen)
		var msg [signedLen]byte
		if _, err := rand.Read(k.Secret); err != nil {
			t.Fatal(err)
		}
		if _, err := rand.Read(msg[:]); err != nil {
			t.Fatal(err)
		}
		kr := newTestKeyring(t, k)
		got := kr.set.Load().keys[0].mac(&msg)
		m := hmac.New(sha256.New, k.Secret)
		m.Write(msg[:])
		if want := m.Sum(nil); !hmac.Equal(got[:], want) {
			t.Fatalf("mac(%x, %x) = %x, want %x", k.Secret, msg, got, want)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := testKey("0a0a0a0a", 'a', t0, false)
	newer := testKey("0b0b0b0b", 'b', t0.Add(24*time.Hour), false)
	oldTok := mustSign(t, newTestKeyring(t, old), testClaims())

	t.Run("newest key signs", func(t *testing.T) {
		for _, keys := range [][]store.ConsentKey{{old, newer}, {newer, old}} {
			tok := mustSign(t, newTestKeyring(t, keys...), testClaims())
			if !strings.HasPrefix(tok, "v1.0b0b0b0b.") {
				t.Errorf("keys %v: token %q, want it signed by 0b0b0b0b", keys, tok)
			}
		}
	})
	t.Run("equal creation times: greatest id signs", func(t *testing.T) {
		same := testKey("0c0c0c0c", 'c', newer.Created, false)
		tok := mustSign(t, newTestKeyring(t, same, old, newer), testClaims())
		if !strings.HasPrefix(tok, "v1.0c0c0c0c.") {
			t.Errorf("token %q, want it signed by 0c0c0c0c", tok)
		}
	})
	t.Run("newest retired: next newest signs", func(t *testing.T) {
		retired := newer
		retired.Retired = true
		tok := mustSign(t, newTestKeyring(t, old, retired), testClaims())
		if !strings.HasPrefix(tok, "v1.0a0a0a0a.") {
			t.Errorf("token %q, want it signed by 0a0a0a0a", tok)
		}
	})
	t.Run("old active key still verifies", func(t *testing.T) {
		got, err := newTestKeyring(t, old, newer).Verify(oldTok)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if diff := cmp.Diff(testClaims(), got); diff != "" {
			t.Errorf("claims (-want +got):\n%s", diff)
		}
	})
	t.Run("retired key never verifies", func(t *testing.T) {
		retired := old
		retired.Retired = true
		if _, err := newTestKeyring(t, retired, newer).Verify(oldTok); !errors.Is(err, ErrRetiredKey) {
			t.Errorf("Verify: got %v, want ErrRetiredKey", err)
		}
	})
	t.Run("replace retires", func(t *testing.T) {
		kr := newTestKeyring(t, old, newer)
		retired := old
		retired.Retired = true
		if err := kr.Replace([]store.ConsentKey{retired, newer}); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.Verify(oldTok); !errors.Is(err, ErrRetiredKey) {
			t.Errorf("Verify after Replace: got %v, want ErrRetiredKey", err)
		}
	})
}

func TestKeyringValidation(t *testing.T) {
	good := testKey("0a0a0a0a", 'a', t0, false)
	for _, tc := range []struct {
		name string
		keys []store.ConsentKey
		want string // substring of the error, "" for none
	}{
		{"no keys", nil, ""},
		{"one key", []store.ConsentKey{good}, ""},
		{"short id", []store.ConsentKey{testKey("0a0a0a", 'a', t0, false)}, "8 lowercase hex"},
		{"upper-case id", []store.ConsentKey{testKey("0A0A0A0A", 'a', t0, false)}, "8 lowercase hex"},
		{"non-hex id", []store.ConsentKey{testKey("0a0a0a0g", 'a', t0, false)}, "8 lowercase hex"},
		{"short secret", []store.ConsentKey{{ID: "0a0a0a0a", Secret: make([]byte, 16)}}, "secret is 16 bytes, want 32"},
		{"duplicate id", []store.ConsentKey{good, testKey("0a0a0a0a", 'b', t0, false)}, "duplicate id"},
		{"every error reported", []store.ConsentKey{testKey("x", 'a', t0, false), {ID: "0b0b0b0b"}}, `"x": id must be`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKeyring(tc.keys)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("NewKeyring: %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("NewKeyring: %v, want an error containing %q", err, tc.want)
			}
		})
	}

	t.Run("failed replace keeps the old keys", func(t *testing.T) {
		kr := newTestKeyring(t, good)
		tok := mustSign(t, kr, testClaims())
		if err := kr.Replace([]store.ConsentKey{{ID: "bad"}}); err == nil {
			t.Fatal("Replace with a bad key: no error")
		}
		if _, err := kr.Verify(tok); err != nil {
			t.Errorf("Verify after failed Replace: %v", err)
		}
	})
	t.Run("secrets are copied", func(t *testing.T) {
		k := testKey("0a0a0a0a", 'a', t0, false)
		kr := newTestKeyring(t, k)
		tok := mustSign(t, kr, testClaims())
		clear(k.Secret)
		if _, err := kr.Verify(tok); err != nil {
			t.Errorf("Verify after the caller cleared the secret: %v", err)
		}
	})
}

func TestNewKey(t *testing.T) {
	a, err := NewKey(t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKey(t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := validKey(a); err != nil {
		t.Errorf("NewKey: %v", err)
	}
	if a.ID == b.ID || string(a.Secret) == string(b.Secret) {
		t.Errorf("two NewKey calls gave the same id or secret: %v, %v", a, b)
	}
	if !a.Created.Equal(t0) || a.Retired {
		t.Errorf("NewKey(%v) = created %v, retired %v", t0, a.Created, a.Retired)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", a, a, a, a); strings.Contains(s, fmt.Sprint(a.Secret)) || strings.Count(s, a.ID) != 4 {
		t.Errorf("formatted key %q: want the id and no secret", s)
	}
}

// TestReplaceConcurrentWithVerify runs under go test -race: the lead
// replaces the key set every few seconds while beacons verify.
func TestReplaceConcurrentWithVerify(t *testing.T) {
	stable := testKey("0a0a0a0a", 'a', t0, false)
	kr := newTestKeyring(t, stable)
	tok := mustSign(t, kr, testClaims())
	const rounds = 2000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for range rounds {
				if _, err := kr.Verify(tok); err != nil {
					errs <- fmt.Errorf("Verify during Replace: %w", err)
					return
				}
				if _, err := kr.Sign(testClaims()); err != nil {
					errs <- fmt.Errorf("Sign during Replace: %w", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range rounds {
			fresh, err := NewKey(t0.Add(time.Duration(i) * time.Second))
			if err != nil {
				errs <- err
				return
			}
			if err := kr.Replace([]store.ConsentKey{fresh, stable}); err != nil {
				errs <- fmt.Errorf("Replace: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCheck(t *testing.T) {
	c := testClaims() // site 42, policy 3, issued t0, expires t0+395d
	p := Policy{Version: 3, MaxAge: 395 * 24 * time.Hour}
	for _, tc := range []struct {
		name   string
		siteID uint32
		policy Policy
		now    time.Time
		want   Reason
	}{
		{"fresh", 42, p, t0.Add(time.Hour), OK},
		{"at issue time", 42, p, t0, OK},
		{"wrong site", 43, p, t0.Add(time.Hour), WrongSite},
		{"one second before expiry", 42, Policy{Version: 3}, c.Expires.Add(-time.Second), OK},
		{"at expiry", 42, Policy{Version: 3}, c.Expires, Expired},
		{"after expiry", 42, Policy{Version: 3}, c.Expires.Add(time.Hour), Expired},
		{"max age reached", 42, Policy{Version: 3, MaxAge: time.Hour}, t0.Add(time.Hour), OK},
		{"max age exceeded", 42, Policy{Version: 3, MaxAge: time.Hour}, t0.Add(time.Hour + time.Second), Expired},
		{"no max age", 42, Policy{Version: 3}, t0.Add(300 * 24 * time.Hour), OK},
		{"old policy", 42, Policy{Version: 4, MaxAge: p.MaxAge}, t0.Add(time.Hour), OldPolicy},
		{"newer token policy", 42, Policy{Version: 2, MaxAge: p.MaxAge}, t0.Add(time.Hour), BadClaims},
		{"issued within clock skew", 42, p, t0.Add(-MaxClockSkew), OK},
		{"issued beyond clock skew", 42, p, t0.Add(-MaxClockSkew - time.Second), BadClaims},
		{"wrong site wins over expiry", 43, p, c.Expires, WrongSite},
		{"expiry wins over policy", 42, Policy{Version: 4}, c.Expires, Expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Check(c, tc.siteID, tc.policy, tc.now); got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGate(t *testing.T) {
	kr := newTestKeyring(t, testKey("0a0a0a0a", 'a', t0, false))
	claims := testClaims()
	tok := mustSign(t, kr, claims)
	noAnalytics := claims
	noAnalytics.Categories = store.ConsentPersonalization | store.ConsentMarketing
	noAnalyticsTok := mustSign(t, kr, noAnalytics)
	otherKey := mustSign(t, newTestKeyring(t, testKey("0b0b0b0b", 'b', t0, false)), claims)
	withdrawn := headOnly(claims.ConsentID, store.ConsentHead{Time: claims.Issued, Withdrawn: true})
	// An update to analytics only, at the token's issue time and after it.
	narrowed := headOnly(claims.ConsentID, store.ConsentHead{Time: claims.Issued, Granted: store.ConsentAnalytics})
	narrowedLater := headOnly(claims.ConsentID, store.ConsentHead{Time: claims.Issued.Add(time.Hour), Granted: store.ConsentMarketing})
	// A decision this replica knows of that is older than the token: the
	// token comes from a newer one.
	older := headOnly(claims.ConsentID, store.ConsentHead{Time: claims.Issued.Add(-time.Second), Granted: 0})
	onlyAnalytics := claims
	onlyAnalytics.Categories = store.ConsentAnalytics
	onlyMarketing := claims
	onlyMarketing.Categories = store.ConsentMarketing
	p := Policy{Version: 3, MaxAge: 395 * 24 * time.Hour}
	now := t0.Add(time.Hour)

	for _, tc := range []struct {
		name       string
		token      string
		siteID     uint32
		policy     Policy
		head       func(uuid.UUID) (store.ConsentHead, bool)
		now        time.Time
		want       Reason
		wantClaims Claims
	}{
		{"ok", tok, 42, p, headOnly(uuid.New(), store.ConsentHead{Time: t0, Withdrawn: true}), now, OK, claims},
		{"ok without head lookup", tok, 42, p, nil, now, OK, claims},
		{"no token", "", 42, p, nil, now, NoToken, Claims{}},
		{"malformed", "garbage", 42, p, nil, now, Malformed, Claims{}},
		{"unknown key", otherKey, 42, p, nil, now, UnknownKey, Claims{}},
		{"bad signature", tamper(tok, 2, flipPayloadByte(5)), 42, p, nil, now, BadSignature, Claims{}},
		{"wrong site", tok, 7, p, nil, now, WrongSite, claims},
		{"expired", tok, 42, p, nil, claims.Expires, Expired, claims},
		{"max age exceeded", tok, 42, Policy{Version: 3, MaxAge: time.Minute}, nil, now, Expired, claims},
		{"old policy", tok, 42, Policy{Version: 9}, nil, now, OldPolicy, claims},
		{"withdrawn", tok, 42, p, withdrawn, now, Withdrawn, claims},
		{"no analytics", noAnalyticsTok, 42, p, nil, now, NoAnalytics, noAnalytics},
		{"withdrawn wins over no analytics", noAnalyticsTok, 42, p, withdrawn, now, Withdrawn, noAnalytics},
		{"narrowed by a later update", tok, 42, p, narrowed, now, OK, onlyAnalytics},
		{"narrowed to no analytics", tok, 42, p, narrowedLater, now, NoAnalytics, onlyMarketing},
		{"newer than the known head", tok, 42, p, older, now, OK, claims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := Gate(kr, tc.token, tc.siteID, tc.policy, tc.head, tc.now)
			if reason != tc.want {
				t.Errorf("reason = %q, want %q", reason, tc.want)
			}
			if diff := cmp.Diff(tc.wantClaims, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

// headOnly knows one head: h, of id.
func headOnly(id uuid.UUID, h store.ConsentHead) func(uuid.UUID) (store.ConsentHead, bool) {
	return func(x uuid.UUID) (store.ConsentHead, bool) { return h, x == id }
}

func TestHeadApply(t *testing.T) {
	id := uuid.New()
	at := func(sec int, granted store.Categories, withdrawn bool) store.ConsentChange {
		return store.ConsentChange{ConsentID: id, Time: t0.Add(time.Duration(sec) * time.Second), Granted: granted, Withdrawn: withdrawn}
	}
	for _, tc := range []struct {
		name    string
		changes []store.ConsentChange
		want    store.ConsentHead
	}{
		{"one update", []store.ConsentChange{at(0, store.ConsentAnalytics, false)}, store.ConsentHead{Time: t0, Granted: store.ConsentAnalytics}},
		{"newer wins", []store.ConsentChange{at(0, 0, false), at(1, store.ConsentAll, false)}, store.ConsentHead{Time: t0.Add(time.Second), Granted: store.ConsentAll}},
		{"older is ignored", []store.ConsentChange{at(1, store.ConsentAnalytics, false), at(0, store.ConsentAll, false)}, store.ConsentHead{Time: t0.Add(time.Second), Granted: store.ConsentAnalytics}},
		{"same second narrows", []store.ConsentChange{at(0, store.ConsentAnalytics|store.ConsentMarketing, false), at(0, store.ConsentAnalytics|store.ConsentPersonalization, false)}, store.ConsentHead{Time: t0, Granted: store.ConsentAnalytics}},
		{"withdrawal is for good", []store.ConsentChange{at(0, 0, true), at(5, store.ConsentAll, false)}, store.ConsentHead{Time: t0.Add(5 * time.Second), Withdrawn: true}},
		{"read again is the same", []store.ConsentChange{at(0, store.ConsentAnalytics, false), at(0, store.ConsentAnalytics, false)}, store.ConsentHead{Time: t0, Granted: store.ConsentAnalytics}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h store.ConsentHead
			for _, c := range tc.changes {
				h = h.Apply(c)
			}
			if h != tc.want {
				t.Errorf("head = %+v, want %+v", h, tc.want)
			}
		})
	}
}

func TestReasonOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want Reason
	}{
		{nil, OK},
		{ErrNoToken, NoToken},
		{ErrMalformed, Malformed},
		{ErrUnknownKey, UnknownKey},
		{ErrRetiredKey, UnknownKey},
		{ErrBadSignature, BadSignature},
		{fmt.Errorf("beacon: %w", ErrBadSignature), BadSignature},
		{errors.New("something else"), Malformed},
	} {
		if got := ReasonOf(tc.err); got != tc.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// fuzzKey is the key the fuzz tests and their seed corpus are signed with.
var fuzzKey = store.ConsentKey{ID: "f022f022", Secret: []byte("0123456789abcdef0123456789abcdef"), Created: t0}

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, and a
// token that verifies must carry claims that re-sign to the same token.
func FuzzVerify(f *testing.F) {
	kr := newTestKeyring(f, fuzzKey)
	f.Add("")
	f.Add("v1...")
	f.Add(mustSign(f, kr, testClaims()))
	f.Fuzz(func(t *testing.T, token string) {
		checkVerified(t, kr, token)
	})
}

// FuzzVerifySigned signs arbitrary payloads with the fuzz key, so that the
// fuzzer gets past the signature into payload decoding.
func FuzzVerifySigned(f *testing.F) {
	kr := newTestKeyring(f, fuzzKey)
	p, err := encodePayload(testClaims())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p[:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkVerified(t, kr, signRaw(fuzzKey, payload))
	})
}

func checkVerified(t *testing.T, kr *Keyring, token string) {
	c, err := kr.Verify(token)
	if err != nil {
		if ReasonOf(err) == OK {
			t.Fatalf("Verify(%q): error %v maps to OK", token, err)
		}
		if diff := cmp.Diff(Claims{}, c); diff != "" {
			t.Fatalf("Verify(%q) failed with claims (-want +got):\n%s", token, diff)
		}
		return
	}
	again, err := kr.Sign(c)
	if err != nil {
		t.Fatalf("Verify(%q) = %+v, which Sign refuses: %v", token, c, err)
	}
	if again != token {
		t.Fatalf("re-signed %+v:\n got %q\nwant %q", c, again, token)
	}
	c2, err := kr.Verify(again)
	if err != nil {
		t.Fatalf("Verify(re-signed): %v", err)
	}
	if diff := cmp.Diff(c, c2); diff != "" {
		t.Fatalf("claims after re-signing (-first +second):\n%s", diff)
	}
}

func BenchmarkVerify(b *testing.B) {
	kr := newTestKeyring(b, testKey("0a0a0a0a", 'a', t0, false), testKey("0b0b0b0b", 'b', t0.Add(-time.Hour), false))
	tok := mustSign(b, kr, testClaims())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGate(b *testing.B) {
	kr := newTestKeyring(b, testKey("0a0a0a0a", 'a', t0, false))
	tok := mustSign(b, kr, testClaims())
	heads := map[uuid.UUID]store.ConsentHead{uuid.New(): {Time: t0, Withdrawn: true}}
	head := func(id uuid.UUID) (store.ConsentHead, bool) { h, ok := heads[id]; return h, ok }
	p := Policy{Version: 3, MaxAge: 395 * 24 * time.Hour}
	now := t0.Add(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, r := Gate(kr, tok, 42, p, head, now); r != OK {
			b.Fatal(r)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	kr := newTestKeyring(b, testKey("0a0a0a0a", 'a', t0, false))
	c := testClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// A retired key's token proves ownership (a visitor's own data) but never
// verifies for collecting.
func TestVerifyOwnershipAcceptsRetiredKeys(t *testing.T) {
	active := testKey("0a0a0a0a", 'a', t0, false)
	tok := mustSign(t, newTestKeyring(t, active), testClaims())
	retired := active
	retired.Retired = true
	kr := newTestKeyring(t, retired, testKey("0b0b0b0b", 'b', t0.Add(time.Hour), false))
	if _, err := kr.Verify(tok); !errors.Is(err, ErrRetiredKey) {
		t.Errorf("Verify of a retired key's token: %v, want ErrRetiredKey", err)
	}
	got, err := kr.VerifyOwnership(tok)
	if err != nil || got != testClaims() {
		t.Errorf("VerifyOwnership = %+v, %v; want the claims", got, err)
	}
	if _, err := kr.VerifyOwnership(tamper(tok, 2, flipPayloadByte(5))); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyOwnership of a tampered token: %v, want ErrBadSignature", err)
	}
}
