package enrich

import (
	"net/netip"

	"github.com/footfall/footfall/httpapi"
)

// contains reports whether a is in one of prefixes, as httpapi.InPrefixes.
func contains(prefixes []netip.Prefix, a netip.Addr) bool { return httpapi.InPrefixes(prefixes, a) }

// truncateIP keeps the network part that Event.IPTrunc records: /24 of an
// IPv4 address, /48 of an IPv6 one, formatted as an address
// ("203.0.113.0", "2001:db8:1::").
func truncateIP(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}
