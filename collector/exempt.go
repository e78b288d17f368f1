package collector

import (
	"strings"

	"github.com/footfall/footfall/collector/consent"
)

// Drop reasons of consent-exempt counting (config.Site.Exempt).
const (
	// optedOut: the request carries Sec-GPC or DNT, which an exempt site
	// takes as the visitor's objection.
	optedOut consent.Reason = "opted_out"
	// notFirstParty: the page is not on the site's domain; exempt counting
	// measures a site's own pages only.
	notFirstParty = "not_first_party"
)

// firstParty reports whether a page host is the site's domain or one of
// its subdomains, "www." aside on either side.
func firstParty(host, domain string) bool {
	host, domain = strings.TrimPrefix(host, "www."), strings.TrimPrefix(domain, "www.")
	return host == domain || strings.HasSuffix(host, "."+domain)
}
