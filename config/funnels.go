package config

import (
	"fmt"
	"slices"

	"github.com/footfall/footfall/store"
)

// Funnel is a site's funnel (docs/reports.md, Funnels): 2 to 8 of the
// site's goals, by name, that a visit reaches in this order.
type Funnel struct {
	Name  string   `yaml:"name"`
	Steps []string `yaml:"steps"`
}

// validateFunnels checks a site's funnels: at most store.MaxFunnels,
// names unique, each of 2 to 8 goal names. Whether the site has those
// goals is checked when a report reads the funnel: a step may name a goal
// added through the admin API, which the config file does not know.
func validateFunnels(where string, funnels []Funnel) []error {
	var errs []error
	if len(funnels) > store.MaxFunnels {
		errs = append(errs, fmt.Errorf("%s.funnels: at most %d, got %d", where, store.MaxFunnels, len(funnels)))
	}
	return append(errs, validateNamed(where+".funnels", "funnel", funnels, func(f Funnel) (string, error) {
		return f.Name, store.Funnel{Name: f.Name, Steps: f.Steps}.Validate()
	})...)
}

// SiteFunnels are the funnels of a site, by its domain, as the reports
// read them.
func (c *Config) SiteFunnels(domain string) []store.Funnel {
	var out []store.Funnel
	for _, f := range c.SiteByDomain(domain).Funnels {
		out = append(out, store.Funnel{Name: f.Name, Steps: slices.Clone(f.Steps)})
	}
	return out
}

// validatePartnerFunnels checks that every funnel a partner lists is a
// funnel of at least one of the partner's sites.
func (c *Config) validatePartnerFunnels() []error {
	var errs []error
	for i, p := range c.Partners {
		for _, name := range p.Funnels {
			found := false
			for _, d := range p.Sites {
				found = found || slices.ContainsFunc(c.SiteByDomain(d).Funnels, func(f Funnel) bool { return f.Name == name })
			}
			if !found {
				errs = append(errs, fmt.Errorf("config: partners[%d].funnels: %q is no funnel of the partner's sites", i, name))
			}
		}
	}
	return errs
}
