package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// NormalizeDomain lower-cases a site domain and checks it is a plain host
// name (letters, digits, hyphens and dots; no scheme, port or path).
func NormalizeDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	if d == "" {
		return "", fmt.Errorf("domain is empty")
	}
	if len(d) > 253 {
		return "", fmt.Errorf("domain %q is longer than 253 characters", s)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("domain %q is not a host name like example.com", s)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fmt.Errorf("domain %q is not a host name like example.com", s)
			}
		}
	}
	return d, nil
}

// SiteID is the id AddSite tries first for a domain: derived from the
// domain, so that processes registering the same site at the same moment
// (two collectors starting on an empty ClickHouse store, whose check and
// insert are not atomic) choose the same id instead of two. Another
// domain may have it already; AddSite then draws a random one.
func SiteID(domain string) uint32 {
	sum := sha256.Sum256([]byte(domain))
	return max(binary.BigEndian.Uint32(sum[:4]), 1)
}
