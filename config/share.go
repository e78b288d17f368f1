package config

// Share is how a site's share links anonymise what they show: a partner
// release of the site alone (aggregator.NewRelease), with the same rules
// and defaults as a partner's — cells under K visitors folded into
// "(other)" or suppressed, identifier-like values folded, GPC visitors left
// out, Laplace noise when Epsilon is set — charged to one privacy budget
// for all of the site's links.
type Share struct {
	// Dimensions the shared tables break counts down by (PartnerDimensions
	// but region and city); default total, page, referrer_host, country.
	Dimensions []string `yaml:"dimensions"`
	// Metrics per cell (PartnerMetrics); default visitors and pageviews.
	Metrics []string `yaml:"metrics"`
	// K is the fewest distinct visitors a shown cell covers; default 10,
	// at least 2.
	K int `yaml:"k"`
	// Epsilon adds differential-privacy noise to every count; 0 (the
	// default) shows exact counts of the cells that pass K.
	Epsilon float64 `yaml:"epsilon"`
	// EpsilonBudget caps the epsilon the site's share links may spend per
	// BudgetPeriod (default 10 × Epsilon): every window first shown costs
	// Epsilon once, every later view of it is the stored release.
	EpsilonBudget float64 `yaml:"epsilon_budget"`
	// BudgetPeriod is day, week or month (the default), UTC.
	BudgetPeriod string `yaml:"budget_period"`
	// Bounds limit each visitor's contribution when Epsilon is set.
	Bounds Bounds `yaml:"bounds"`
}

// SharePartnerPrefix begins the name under which a site's share releases
// are stored and budgeted ("share:" + domain); partner names cannot hold
// the ':', so no partner shares them.
const SharePartnerPrefix = "share:"

// partner is the partner whose release a site's share links show.
func (s Share) partner(domain string) Partner {
	return Partner{
		Name: SharePartnerPrefix + domain, Sites: []string{domain},
		Dimensions: s.Dimensions, Metrics: s.Metrics, K: s.K,
		Epsilon: s.Epsilon, EpsilonBudget: s.EpsilonBudget, BudgetPeriod: s.BudgetPeriod, Bounds: s.Bounds,
	}
}

// validate checks s as a partner's settings and fills in their defaults.
func (s *Share) validate(where string) []error {
	p := s.partner("share.invalid")
	errs := p.validate(where)
	s.Dimensions, s.Metrics, s.K = p.Dimensions, p.Metrics, p.K
	s.EpsilonBudget, s.BudgetPeriod, s.Bounds = p.EpsilonBudget, p.BudgetPeriod, p.Bounds
	return errs
}

// ShareRelease is the partner whose release the site's share links show:
// the site's Share settings (the defaults for a site the file does not
// list), under the name SharePartnerPrefix + domain.
func (c *Config) ShareRelease(domain string) Partner {
	s := c.SiteByDomain(domain).Share
	if len(s.Dimensions) == 0 {
		// Not validated (a site added by footfall site add, not in the
		// file): the defaults, which always pass.
		_ = s.validate("")
	}
	p := s.partner(domain)
	p.Dimensions = append([]string(nil), p.Dimensions...)
	p.Metrics = append([]string(nil), p.Metrics...)
	return p
}
