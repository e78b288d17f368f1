package config

import (
	"fmt"
	"slices"
)

// ExemptMaxRawEventsDays is the longest raw events may be kept while a site
// is exempt: the 25 months the CNIL allows for exempt audience measurement.
const ExemptMaxRawEventsDays = 760

// ExemptCondition is one of the conditions under which the French CNIL
// exempts audience measurement from consent, as Footfall enforces it.
// Conditions the code always meets (no cookie, no IP or user id stored, a
// daily-salted visitor key that no other site shares, UTM tags kept but
// advertising click ids dropped, first-party page URLs only) are in
// docs/consent.md; the ones below depend on the configuration, so a
// configuration that breaks one is refused with the condition's name.
type ExemptCondition string

const (
	NoPartnerSharing ExemptCondition = "aggregate statistics stay with the site: no partner sharing"
	RetentionLimit   ExemptCondition = "data collected is kept at most 25 months"
	OptOutHonoured   ExemptCondition = "visitors can opt out: Sec-GPC and DNT stop collection"
)

// validateExempt refuses every combination that breaks a condition of an
// exempt site. It runs after the partners and retention are validated, so
// domains are normalised and defaults filled in.
func (c *Config) validateExempt() []error {
	var errs []error
	refuse := func(i int, field string, cond ExemptCondition, detail string) {
		errs = append(errs, fmt.Errorf("config: sites[%d] (%s) is exempt, but %s: %s (CNIL condition: %s)",
			i, c.Sites[i].Domain, field, detail, cond))
	}
	for i, s := range c.Sites {
		if !s.Exempt {
			continue
		}
		for _, p := range c.Partners {
			if slices.Contains(p.Sites, s.Domain) {
				refuse(i, "partners."+p.Name+".sites", NoPartnerSharing, "lists it")
			}
		}
		if c.Retention.RawEventsDays > ExemptMaxRawEventsDays {
			refuse(i, "retention.raw_events_days", RetentionLimit,
				fmt.Sprintf("is %d, over %d", c.Retention.RawEventsDays, ExemptMaxRawEventsDays))
		}
		if s.Consent.GPC == "ignore" {
			refuse(i, "consent.gpc", OptOutHonoured, "is ignore")
		}
		if s.Consent.DNT == "ignore" {
			refuse(i, "consent.dnt", OptOutHonoured, "is ignore")
		}
	}
	return errs
}
