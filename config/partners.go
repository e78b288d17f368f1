package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/footfall/footfall/store"
)

// Partner is a company that receives anonymised aggregates of some sites:
// per-day counts by the dimensions listed, with every published cell
// covering at least K distinct visitors, GPC visitors left out, and
// optionally differential-privacy noise. See aggregator.Release.
type Partner struct {
	// Name identifies the partner in commands (footfall export -partner)
	// and tokens: lower-case letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Sites are the domains whose aggregates the partner receives.
	Sites []string `yaml:"sites"`
	// Dimensions the partner's tables break counts down by (PartnerDimensions);
	// default total, page, referrer_host, country.
	Dimensions []string `yaml:"dimensions"`
	// Metrics are the counts per cell (PartnerMetrics); default visitors
	// and pageviews.
	Metrics []string `yaml:"metrics"`
	// K is the fewest distinct visitors a published cell may cover; smaller
	// cells are folded into an "(other)" row, itself dropped when it covers
	// fewer than K. Default 10, at least 2.
	K int `yaml:"k"`
	// Epsilon is the privacy budget of one release with differential
	// privacy; 0 (the default) publishes exact counts.
	Epsilon float64 `yaml:"epsilon"`
	// EpsilonBudget caps the epsilon the partner API may spend on this
	// partner per BudgetPeriod: every window released costs Epsilon once
	// (served again as stored, it costs nothing). Default 10 × Epsilon.
	EpsilonBudget float64 `yaml:"epsilon_budget"`
	// BudgetPeriod is the calendar period (UTC) EpsilonBudget is for: day,
	// week (from Monday) or month (the default).
	BudgetPeriod string `yaml:"budget_period"`
	// Bounds limit each visitor's contribution when Epsilon is set.
	Bounds Bounds `yaml:"bounds"`
	// AllowRegion and AllowCity permit the region and city dimensions, which
	// are finer than the country every partner may have.
	AllowRegion bool `yaml:"allow_region"`
	AllowCity   bool `yaml:"allow_city"`
	// Funnels are funnels of the partner's sites (sites[].funnels) whose
	// steps the release gives as tables funnel:NAME: per site, the
	// visitors that reached each step over the release's whole window,
	// under K and the noise as every cell (needs metric visitors).
	Funnels []string `yaml:"funnels"`
	// Schedule makes footfall aggregate -export-dir write the partner's
	// release of each finished period: daily, weekly (Monday to Sunday) or
	// monthly. Empty: exports are only made by footfall export.
	Schedule string `yaml:"schedule"`
}

// Bounds are a partner's contribution bounds under differential privacy:
// per dimension a visitor counts in at most MaxCells cells of a release, and
// with at most MaxVisits, MaxPageviews and MaxEvents in a cell.
type Bounds struct {
	MaxCells     int `yaml:"max_cells"`
	MaxVisits    int `yaml:"max_visits"`
	MaxPageviews int `yaml:"max_pageviews"`
	MaxEvents    int `yaml:"max_events"`
}

// PartnerDimensions are the dimensions a partner may list, those of
// store.Dimensions marked Partner; "total" is the site's totals.
var PartnerDimensions = partnerDimensions()

func partnerDimensions() []string {
	var names []string
	for _, d := range store.Dimensions {
		switch {
		case !d.Partner:
		case d.Name == store.DimTotal:
			names = append(names, "total")
		default:
			names = append(names, d.Name)
		}
	}
	return names
}

// PartnerMetrics are the metrics a partner may list.
var PartnerMetrics = []string{"visitors", "visits", "pageviews", "events"}

// BudgetPeriods are the periods a partner's epsilon budget may be for.
var BudgetPeriods = []string{"day", "week", "month"}

// defaultBudgetReleases is how many releases the default epsilon budget
// pays for in a period.
const defaultBudgetReleases = 10

// Schedules are the export schedules a partner may have.
var Schedules = []string{"daily", "weekly", "monthly"}

// Default partner settings.
const (
	DefaultK            = 10
	defaultMaxCells     = 4
	defaultMaxVisits    = 3
	defaultMaxPageviews = 10
	defaultMaxEvents    = 10
	maxEpsilon          = 10
)

var partnerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// StoreDimension maps a partner dimension to the store's name ("total" is
// the store's empty dimension).
func StoreDimension(dim string) string {
	if dim == "total" {
		return store.DimTotal
	}
	return dim
}

// Partner returns the partner of that name.
func (c *Config) Partner(name string) (Partner, bool) {
	for _, p := range c.Partners {
		if p.Name == name {
			return p, true
		}
	}
	return Partner{}, false
}

// SiteZone is a configured site's time zone name ("" for UTC).
func (c *Config) SiteZone(domain string) string {
	return c.SiteByDomain(domain).TimeZone
}

// validateAggregation checks site time zones and partners and fills in
// partner defaults.
func (c *Config) validateAggregation() []error {
	var errs []error
	for i, s := range c.Sites {
		if _, err := store.LoadZone(s.TimeZone); err != nil {
			errs = append(errs, fmt.Errorf("config: sites[%d].timezone: %w", i, err))
		}
	}
	names := map[string]bool{}
	for i := range c.Partners {
		p := &c.Partners[i]
		where := fmt.Sprintf("config: partners[%d]", i)
		if !partnerName.MatchString(p.Name) {
			errs = append(errs, fmt.Errorf("%s.name: %q is not a name of lower-case letters, digits, '-' and '_'", where, p.Name))
		} else if names[p.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %s is listed twice", where, p.Name))
		}
		names[p.Name] = true
		errs = append(errs, p.validate(where)...)
	}
	return errs
}

func (p *Partner) validate(where string) []error {
	var errs []error
	if len(p.Sites) == 0 {
		errs = append(errs, fmt.Errorf("%s.sites: list at least one site", where))
	}
	for i, s := range p.Sites {
		d, err := store.NormalizeDomain(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.sites[%d]: %w", where, i, err))
			continue
		}
		p.Sites[i] = d
	}
	if len(p.Dimensions) == 0 {
		p.Dimensions = []string{"total", "page", "referrer_host", "country"}
	}
	for _, d := range p.Dimensions {
		switch {
		case !slices.Contains(PartnerDimensions, d):
			errs = append(errs, fmt.Errorf("%s.dimensions: unknown %q (known: %s)", where, d, strings.Join(PartnerDimensions, ", ")))
		case d == "region" && !p.AllowRegion:
			errs = append(errs, fmt.Errorf("%s.dimensions: region needs allow_region: true", where))
		case d == "city" && !p.AllowCity:
			errs = append(errs, fmt.Errorf("%s.dimensions: city needs allow_city: true", where))
		}
	}
	if dup := duplicate(p.Dimensions); dup != "" {
		errs = append(errs, fmt.Errorf("%s.dimensions: %s is listed twice", where, dup))
	}
	if len(p.Metrics) == 0 {
		p.Metrics = []string{"visitors", "pageviews"}
	}
	for _, m := range p.Metrics {
		if !slices.Contains(PartnerMetrics, m) {
			errs = append(errs, fmt.Errorf("%s.metrics: unknown %q (known: %s)", where, m, strings.Join(PartnerMetrics, ", ")))
		}
	}
	if dup := duplicate(p.Metrics); dup != "" {
		errs = append(errs, fmt.Errorf("%s.metrics: %s is listed twice", where, dup))
	}
	if len(p.Funnels) > 0 && !slices.Contains(p.Metrics, "visitors") {
		errs = append(errs, fmt.Errorf("%s.funnels: funnel tables count visitors: list metric visitors", where))
	}
	if dup := duplicate(p.Funnels); dup != "" {
		errs = append(errs, fmt.Errorf("%s.funnels: %s is listed twice", where, dup))
	}
	if p.K == 0 {
		p.K = DefaultK
	}
	if p.K < 2 {
		errs = append(errs, fmt.Errorf("%s.k: want at least 2, got %d", where, p.K))
	}
	if p.Epsilon < 0 || p.Epsilon > maxEpsilon {
		errs = append(errs, fmt.Errorf("%s.epsilon: want 0 (no noise) or up to %d, got %g", where, maxEpsilon, p.Epsilon))
	}
	if p.EpsilonBudget == 0 {
		p.EpsilonBudget = defaultBudgetReleases * p.Epsilon
	}
	if p.EpsilonBudget < 0 || p.Epsilon > 0 && p.EpsilonBudget < p.Epsilon {
		errs = append(errs, fmt.Errorf("%s.epsilon_budget: want at least epsilon (%g), got %g", where, p.Epsilon, p.EpsilonBudget))
	}
	if p.BudgetPeriod == "" {
		p.BudgetPeriod = "month"
	}
	if !slices.Contains(BudgetPeriods, p.BudgetPeriod) {
		errs = append(errs, fmt.Errorf("%s.budget_period: want %s, got %q", where, strings.Join(BudgetPeriods, ", "), p.BudgetPeriod))
	}
	for _, b := range []struct {
		name string
		v    *int
		def  int
	}{
		{"max_cells", &p.Bounds.MaxCells, defaultMaxCells},
		{"max_visits", &p.Bounds.MaxVisits, defaultMaxVisits},
		{"max_pageviews", &p.Bounds.MaxPageviews, defaultMaxPageviews},
		{"max_events", &p.Bounds.MaxEvents, defaultMaxEvents},
	} {
		if *b.v == 0 {
			*b.v = b.def
		}
		if *b.v < 1 || *b.v > 1000 {
			errs = append(errs, fmt.Errorf("%s.bounds.%s: want 1 to 1000, got %d", where, b.name, *b.v))
		}
	}
	if p.Schedule != "" && !slices.Contains(Schedules, p.Schedule) {
		errs = append(errs, fmt.Errorf("%s.schedule: want %s or nothing, got %q", where, strings.Join(Schedules, ", "), p.Schedule))
	}
	return errs
}

func duplicate(xs []string) string {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			return x
		}
		seen[x] = true
	}
	return ""
}
