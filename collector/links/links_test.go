package links

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/collector/consent"

	"github.com/footfall/footfall/store"
)

func newKeys(t testing.TB, n int) []store.ConsentKey {
	t.Helper()
	var keys []store.ConsentKey
	for i := range n {
		k, err := consent.NewKey(time.Now().Add(time.Duration(i) * time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

func TestSignVerify(t *testing.T) {
	keys := newKeys(t, 2)
	s := NewSigner(keys)
	l := Link{SiteID: 7, Campaign: "spring", LinkID: "hero", Target: "https://example.test/sale?x=1", Consent: store.ConsentAnalytics | store.ConsentMarketing,
		Expires: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), Subscriber: "crm-4711"}
	tok, err := s.Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(tok)
	if err != nil || got != l {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, l)
	}
	other, err := NewSigner(newKeys(t, 1)).Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild a token around a changed payload, keeping the signature.
	forge := func(edit func(l *Link)) string {
		m := l
		edit(&m)
		parts := strings.Split(tok, ".")
		parts[2] = b64.EncodeToString(encode(m))
		return strings.Join(parts, ".")
	}
	tests := []struct {
		name, token string
		want        error
	}{
		{"changed target", forge(func(l *Link) { l.Target = "https://evil.example/" }), ErrBadSignature},
		{"changed campaign", forge(func(l *Link) { l.Campaign = "autumn" }), ErrBadSignature},
		{"changed consent", forge(func(l *Link) { l.Consent = store.ConsentAll }), ErrBadSignature},
		{"truncated", tok[:len(tok)-5], ErrMalformed},
		{"no signature", tok[:strings.LastIndexByte(tok, '.')], ErrMalformed},
		{"another key", other, ErrUnknownKey},
		{"unsigned", "https://evil.example/", ErrMalformed},
		{"empty", "", ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := s.Verify(tt.token); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify error %v, want %v", tt.name, err, tt.want)
		}
	}
	keys[1].Retired = true
	s.Replace(keys)
	if _, err := s.Verify(tok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("retired key: %v, want ErrUnknownKey", err)
	}
}

func TestSignRefusesBadLinks(t *testing.T) {
	s := NewSigner(newKeys(t, 1))
	for _, l := range []Link{
		{Campaign: "c"},
		{SiteID: 1},
		{SiteID: 1, Campaign: "c", Target: "javascript:alert(1)"},
		{SiteID: 1, Campaign: "c", Target: "/relative"},
		{SiteID: 1, Campaign: "c", Consent: 8},
		{SiteID: 1, Campaign: "c"}, // no expiry
		{SiteID: 1, Campaign: "c", Expires: time.Now(), Subscriber: strings.Repeat("s", MaxSubscriberLen+1)},
	} {
		if _, err := s.Sign(l); err == nil {
			t.Errorf("Sign(%+v) succeeded", l)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := NewSigner(newKeys(f, 1))
	tok, _ := s.Sign(Link{SiteID: 1, Campaign: "c", LinkID: "l", Target: "https://example.test/", Expires: time.Now(), Subscriber: "x"})
	f.Add(tok)
	f.Add("l1.x.y.z")
	f.Fuzz(func(t *testing.T, token string) {
		l, err := s.Verify(token)
		if err == nil && l.Validate() != nil {
			t.Fatalf("a verified token carries an invalid link: %+v", l)
		}
	})
}

// A token signed before links had an expiry still verifies (the mail that
// holds it still redirects), with no expiry and no subscriber.
func TestTokenWithoutExpiryVerifies(t *testing.T) {
	s := NewSigner(newKeys(t, 1))
	keys := *s.keys.Load()
	l := Link{SiteID: 3, Campaign: "old", Target: "https://example.test/"}
	signed := prefix + keys[0].id + "." + b64.EncodeToString(encode(l))
	tok := signed + "." + b64.EncodeToString(mac(keys[0].secret, signed))
	got, err := s.Verify(tok)
	if err != nil || got != l {
		t.Errorf("Verify = %+v, %v; want %+v", got, err, l)
	}
}
