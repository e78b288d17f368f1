package spool

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// randomEvent fills every field of a store.Event through reflection, so a
// field added to the struct is covered without touching this test.
func randomEvent(t testing.TB, r *rand.Rand) store.Event {
	t.Helper()
	var e store.Event
	fill(t, r, reflect.ValueOf(&e).Elem(), "Event")
	return e
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	uuidType   = reflect.TypeFor[uuid.UUID]()
	amountType = reflect.TypeFor[store.Amount]()
)

func fill(t testing.TB, r *rand.Rand, v reflect.Value, path string) {
	t.Helper()
	switch {
	case v.Type() == timeType:
		v.Set(reflect.ValueOf(time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)).UTC()))
		return
	case v.Type() == uuidType:
		v.Set(reflect.ValueOf(uuid.New()))
		return
	case v.Type() == amountType:
		v.SetUint(1 + r.Uint64N(store.MaxAmount))
		return
	}
	switch v.Kind() {
	case reflect.String:
		b := make([]byte, 1+r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256)) // any bytes, not only UTF-8
		}
		v.SetString(string(b))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(max(1, r.Uint64()>>(64-v.Type().Bits())))
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, r, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		n := 1 + r.IntN(5)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(t, r, s.Index(i), path+"[]")
		}
		v.Set(s)
	default:
		t.Fatalf("%s: kind %s has no generator: teach fill and the codec about it", path, v.Kind())
	}
}

func TestCodecRoundTripsEveryField(t *testing.T) {
	if got := reflect.TypeFor[store.Event]().NumField(); got != eventFields {
		t.Fatalf("store.Event has %d fields, the spool codec writes %d: encode the new field (a new codec version) and update eventFields", got, eventFields)
	}
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		e    store.Event
	}{
		{"zero", store.Event{}},
		{"extremes", store.Event{SiteID: 1<<32 - 1, ScreenWidth: 1<<16 - 1, ASN: 1<<32 - 1, EngagedMS: 1<<32 - 1,
			VisitorKey: 1<<64 - 1, SessionID: 1<<64 - 1, Time: time.Unix(1<<40, 999_999_999).UTC(), ReceivedAt: time.Unix(-1<<40, 1).UTC()}},
	}
	for i := range 200 {
		tests = append(tests, struct {
			name string
			e    store.Event
		}{"random" + string(rune('A'+i%26)), randomEvent(t, r)})
	}
	for _, tt := range tests {
		enc := appendEvent(nil, &tt.e)
		var got store.Event
		if err := decodeEvent(enc, &got); err != nil {
			t.Fatalf("%s: decode: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.e, got); diff != "" {
			t.Fatalf("%s: round trip differs (-want +got):\n%s", tt.name, diff)
		}
		// Every prefix is an error, never a panic or a silent success.
		for n := range len(enc) {
			if err := decodeEvent(enc[:n], &got); err == nil {
				t.Fatalf("%s: a %d-byte prefix of %d decoded without error", tt.name, n, len(enc))
			}
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	f.Add(appendEvent(nil, &store.Event{}))
	e := randomEvent(f, r)
	f.Add(appendEvent(nil, &e))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e store.Event
		if decodeEvent(b, &e) != nil {
			return
		}
		// What decodes survives a round trip unchanged.
		var again store.Event
		if err := decodeEvent(appendEvent(nil, &e), &again); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if diff := cmp.Diff(e, again); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s", diff)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	e := sampleEvent()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEvent(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecode(b *testing.B) {
	e := sampleEvent()
	enc := appendEvent(nil, &e)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	var got store.Event
	for b.Loop() {
		if err := decodeEvent(enc, &got); err != nil {
			b.Fatal(err)
		}
	}
}

// sampleEvent is a realistic event: what a consented pageview becomes.
func sampleEvent() store.Event {
	now := time.Now().UTC().Truncate(time.Second)
	return store.Event{
		ID: uuid.New(), SiteID: 1, Type: store.Pageview, Time: now, ReceivedAt: now,
		Host: "shop.example.com", Path: "/products/blue-shoes", Query: "utm_source=newsletter",
		Referrer: "https://www.google.com/", ReferrerHost: "www.google.com", Source: "search",
		UTMSource: "newsletter", IP: "203.0.113.57", IPTrunc: "203.0.113.0",
		VisitorKey: 0x1234567890abcdef, KeyVersion: 1, SessionID: 42,
		ConsentID: uuid.New(), Consent: 7, PolicyVersion: "1",
		Browser: "Chrome", BrowserVersion: "126", OS: "Windows", OSVersion: "10", Device: "desktop", ScreenWidth: 1920,
		Country: "DE", Region: "BE", City: "Berlin", ASN: 3320, ISP: "Deutsche Telekom",
		Props: []store.Prop{{Key: "plan", Value: "pro"}}, EngagedMS: 12000,
	}
}

// TestCodecReadsOldVersions: a spool written before Language (version 1),
// revenue (version 2) or scroll depth (version 3) existed replays, each
// event without them.
func TestCodecReadsOldVersions(t *testing.T) {
	e := randomEvent(t, rand.New(rand.NewPCG(5, 6)))
	e.Language, e.RevenueAmount, e.RevenueCurrency, e.ScrollDepth = "", 0, "", 0
	enc := appendEvent(nil, &e)
	if enc[0] != codecV4 || string(enc[len(enc)-4:]) != "\x00\x00\x00\x00" {
		t.Fatalf("version %d, last bytes %v: want version 4 ending in an empty Language, amount, currency and scroll depth", enc[0], enc[len(enc)-4:])
	}
	for _, old := range [][]byte{
		append([]byte{codecV3}, enc[1:len(enc)-1]...),
		append([]byte{codecV2}, enc[1:len(enc)-3]...),
		append([]byte{codecV1}, enc[1:len(enc)-4]...),
	} {
		var got store.Event
		if err := decodeEvent(old, &got); err != nil {
			t.Fatalf("decode version %d: %v", old[0], err)
		}
		if diff := cmp.Diff(e, got); diff != "" {
			t.Errorf("version %d (-want +got):\n%s", old[0], diff)
		}
	}
}
