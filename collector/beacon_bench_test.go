package collector

import (
	"fmt"
	"testing"
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
