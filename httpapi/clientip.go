package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent a request.
//
// The connection's peer (remote, as in http.Request.RemoteAddr) is the
// answer unless it is one of the trusted proxies. Only then are the
// forwarding headers read, in this order, the first one present winning:
//
//   - X-Forwarded-For, walked right to left: the first address that is not a
//     trusted proxy is the client;
//   - Forwarded (RFC 7239), its for= parameters walked the same way;
//   - X-Real-IP, a single address.
//
// A trusted proxy must therefore set or append the header read first: a
// header it passes through untouched is whatever the client sent. When the
// walk meets a value that is not an address (a garbled entry, "unknown", an
// obfuscated identifier) it stops and answers the last trusted hop it
// passed, the nearest one that vouched for the value. When every entry is a
// trusted proxy, the leftmost is the answer.
//
// IPv4-mapped IPv6 addresses are returned as IPv4 and zones are dropped.
// The zero Addr means remote is not an address (a test's "pipe", a Unix
// socket).
func ClientIP(remote string, h http.Header, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(remote)
	if !peer.IsValid() || !InPrefixes(trusted, peer) {
		return peer
	}
	if v := h.Values("X-Forwarded-For"); len(v) > 0 {
		return walk(peer, trusted, strings.Join(v, ","), parseAddr)
	}
	if v := h.Values("Forwarded"); len(v) > 0 {
		return walk(peer, trusted, strings.Join(v, ","), forwardedFor)
	}
	if v := h.Get("X-Real-IP"); v != "" {
		if a := parseAddr(v); a.IsValid() {
			return a
		}
	}
	return peer
}

// walk goes through a comma-separated hop list from the right, starting
// from the trusted peer.
func walk(peer netip.Addr, trusted []netip.Prefix, list string, parse func(string) netip.Addr) netip.Addr {
	last := peer
	for list != "" {
		var hop string
		if i := strings.LastIndexByte(list, ','); i >= 0 {
			hop, list = list[i+1:], list[:i]
		} else {
			hop, list = list, ""
		}
		if strings.TrimSpace(hop) == "" {
			continue // "a, , b" and trailing commas carry nothing
		}
		a := parse(hop)
		if !a.IsValid() {
			return last
		}
		if !InPrefixes(trusted, a) {
			return a
		}
		last = a
	}
	return last
}

// forwardedFor returns the for= address of one Forwarded element, such as
// `for="[2001:db8::1]:4711";proto=https;by=203.0.113.43`.
func forwardedFor(elem string) netip.Addr {
	for pair := range strings.SplitSeq(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		return parseAddr(strings.Trim(strings.TrimSpace(v), `"`))
	}
	return netip.Addr{}
}

// parseAddr accepts "addr", "addr:port", "[v6]" and "[v6]:port", with
// surrounding spaces, and returns the address unmapped and without zone.
func parseAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return canonical(ap.Addr())
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return canonical(a)
}

func canonical(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// InPrefixes reports whether a is in one of prefixes; an IPv4 address also
// matches IPv4-mapped IPv6 prefixes (::ffff:10.0.0.0/104).
func InPrefixes(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) || (a.Is4() && p.Addr().Is4In6() && p.Contains(netip.AddrFrom16(a.As16()))) {
			return true
		}
	}
	return false
}

// ClientPrefix is what one client is limited by: its IPv4 address, or its
// IPv6 /64 (one household or server). An invalid address gives the zero
// prefix: one shared bucket.
func ClientPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}
