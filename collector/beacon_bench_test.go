package collector

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// benchBodies are realistic beacon bodies: what the snippet sends.
func benchBodies() [][]byte {
	var out [][]byte
	for i := range 64 {
		out = append(out, fmt.Appendf(nil, `{"site":"example.test","type":"pageview","url":"https://example.test/products/item-%d?utm_source=newsletter&utm_medium=email","referrer":"https://www.google.com/","token":"v1.AbCdEfGh.AQIDBAUGBwgJCgsMDQ4PEAECAwQFBgcICQoLDA0ODxAB.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXI","sid":"k3j4h5g6","w":1920,"props":{"plan":"pro","step":%d}}`, i, i%4))
	}
	return out
}

// The decode stage of the beacon path: JSON body to Beacon.
func BenchmarkDecodeBeacons(b *testing.B) {
	bodies := benchBodies()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := decodeBeacons(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Decode and validate: what the handler does before consent.
func BenchmarkDecodeAndValidate(b *testing.B) {
	bodies := benchBodies()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bs, err := decodeBeacons(bodies[i%len(bodies)])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := validate(&bs[0]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// The fast decoder, where it answers, answers as encoding/json does; it
// answers for what the snippet sends.
func FuzzFastBeacons(f *testing.F) {
	for _, b := range benchBodies() {
		f.Add(string(b))
	}
	for _, s := range []string{
		`{"site":"example.test","type":"pageview","url":"https://example.test/a"}`,
		`[{"site":"a","type":"click","url":"https://a/","target":"https://b/","w":0,"ms":-0},{"site":"b"}]`,
		`{"props":{"a":1.5e3,"b":true,"c":null,"d":"x","a":2}}`,
		`{"w":1.0}`, `{"w":99999999999999999999}`, `{"Site":"x"}`, `{"site":"a\"b"}`, `{"site":null}`,
		`{"props":{"a":{"b":1}}}`, `[]`, `{}`, `{"site":"\xff"}`, `{"site":"é"}`, `{"ms":01}`, `{"props":{"a":-}}`,
		`{"x":1}`, `{"site":"a","site":"b"}`, `{"props":{"a":1e400}}`, ` {"sid" : "s" } `,
		`{"url":"https://a/?x=1\u0026y=2","props":{"k\"":"v\n\ud83d\ude00"}}`, `{"name":"\ud800"}`, `{"name":"a\"}`,
		`{"\u0073ite":"a"}`, `{"target":"\/x\/"}`, `{"type":"engagement","ms":1200,"scroll":73}`, `{"scroll":1e2}`, `{"scroll":-5}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fast, ok := fastBeacons([]byte(body))
		if !ok {
			return
		}
		var want []Beacon
		var err error
		if strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "[") {
			err = json.Unmarshal([]byte(body), &want)
		} else {
			var b Beacon
			err = json.Unmarshal([]byte(body), &b)
			want = []Beacon{b}
		}
		if err != nil {
			t.Fatalf("fast decoder took %q, encoding/json refuses it: %v", body, err)
		}
		if diff := cmp.Diff(want, fast, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("fast decoder differs from encoding/json on %q (-json +fast):\n%s", body, diff)
		}
	})
}

func TestFastBeaconsTakesWhatTheSnippetSends(t *testing.T) {
	for _, body := range benchBodies() {
		if _, ok := fastBeacons(body); !ok {
			t.Errorf("fast decoder refused %s", body)
		}
	}
	if _, ok := fastBeacons([]byte(`[{"site":"example.test","type":"pageview","url":"https://example.test/","user_id":"u1","name":"n","ms":5}]`)); !ok {
		t.Error("fast decoder refused a batch")
	}
	// The engagement beacon, with its scroll depth.
	if got, ok := fastBeacons([]byte(`{"site":"example.test","type":"engagement","url":"https://example.test/","token":"t","sid":"s","w":390,"ms":4200,"scroll":73}`)); !ok || got[0].Scroll != 73 || got[0].MS != 4200 {
		t.Errorf("engagement: %v %+v", ok, got)
	}
	// Go's json.Marshal escapes & as \u0026; the fast path takes it.
	got, ok := fastBeacons([]byte(`{"site":"example.test","type":"pageview","url":"https://example.test/?a=1\u0026b=2"}`))
	if !ok || got[0].URL != "https://example.test/?a=1&b=2" {
		t.Errorf("escaped URL: %v %+v", ok, got)
	}
}

// encoding/json on the same bodies: the path decodeBeacons falls back to.
func BenchmarkDecodeBeaconsEncodingJSON(b *testing.B) {
	bodies := benchBodies()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var bc Beacon
		if err := json.Unmarshal(bodies[i%len(bodies)], &bc); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
