package httpapi

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name   string
		remote string
		header map[string][]string
		want   string
	}{
		{"peer v4", "198.51.100.7:4711", nil, "198.51.100.7"},
		{"peer v6", "[2001:db8::7]:4711", nil, "2001:db8::7"},
		{"peer mapped v4", "[::ffff:198.51.100.7]:4711", nil, "198.51.100.7"},
		{"peer v6 zone", "[fe80::1%eth0]:4711", nil, "fe80::1"},
		{"peer without port", "198.51.100.7", nil, "198.51.100.7"},
		{"peer not an address", "pipe", nil, "invalid IP"},

		// An untrusted peer: every forwarding header is ignored.
		{"untrusted xff", "198.51.100.7:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "198.51.100.7"},
		{"untrusted x-real-ip", "198.51.100.7:1", map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, "198.51.100.7"},
		{"untrusted forwarded", "198.51.100.7:1", map[string][]string{"Forwarded": {"for=203.0.113.9"}}, "198.51.100.7"},
		{"untrusted all", "[2001:db8::7]:1", map[string][]string{"X-Forwarded-For": {"10.0.0.1"}, "X-Real-Ip": {"10.0.0.1"}, "Forwarded": {"for=10.0.0.1"}}, "2001:db8::7"},

		// A trusted peer: the headers are believed, right to left.
		{"trusted xff", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"trusted xff chain", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"198.51.100.1, 203.0.113.9, 10.1.1.1"}}, "203.0.113.9"},
		{"trusted xff client spoofs left", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}, "203.0.113.9"},
		{"trusted xff several headers", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "203.0.113.9, 10.0.0.3"}}, "203.0.113.9"},
		{"trusted xff with ports and brackets", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"[2001:db8::9]:443, 10.0.0.3:80"}}, "2001:db8::9"},
		{"trusted xff mapped", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.9"}}, "203.0.113.9"},
		{"trusted xff all trusted", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"10.0.0.5, 10.0.0.4"}}, "10.0.0.5"},
		{"trusted xff garbage stops", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9, garbage, 10.0.0.4"}}, "10.0.0.4"},
		{"trusted xff garbage next to peer", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"unknown"}}, "10.0.0.2"},
		{"trusted xff empty entries", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9,, "}}, "203.0.113.9"},
		{"trusted v6 proxy", "[fd00::1]:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"trusted mapped proxy", "[::ffff:10.0.0.2]:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"trusted forwarded", "10.0.0.2:1", map[string][]string{"Forwarded": {`for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=https;by=10.0.0.2`}}, "2001:db8:cafe::17"},
		{"trusted forwarded case", "10.0.0.2:1", map[string][]string{"Forwarded": {`For=203.0.113.9;Proto=https`}}, "203.0.113.9"},
		{"trusted forwarded obfuscated", "10.0.0.2:1", map[string][]string{"Forwarded": {`for=_hidden, for=10.0.0.9`}}, "10.0.0.9"},
		{"trusted x-real-ip", "127.0.0.1:1", map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, "203.0.113.9"},
		{"trusted x-real-ip garbage", "127.0.0.1:1", map[string][]string{"X-Real-Ip": {"nope"}}, "127.0.0.1"},
		{"xff wins over forwarded", "10.0.0.2:1", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "Forwarded": {"for=198.51.100.1"}}, "203.0.113.9"},
		{"trusted no headers", "10.0.0.2:1", nil, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientIP(tt.remote, http.Header(tt.header), trusted).String()
			if got != tt.want {
				t.Errorf("ClientIP(%q, %v) = %s, want %s", tt.remote, tt.header, got, tt.want)
			}
		})
	}
}
