// Package config reads Footfall's YAML configuration file: the sites it
// serves, each with its consent policy and banner texts, time zone, query
// parameters kept, consent-exempt mode, scheduled e-mail reports and share
// links' anonymisation; the partners that receive anonymised aggregates
// (which dimensions, metrics, k, epsilon budget); and retention. Unknown
// keys are errors, so a typo never silently does nothing; every problem is
// reported at once.
package config

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/footfall/footfall/store"
)

// Config is the whole configuration file.
type Config struct {
	// Sites are registered at start-up if the store does not have them yet.
	Sites []Site `yaml:"sites"`
	// Partners receive anonymised aggregates (footfall export); see partners.go.
	Partners []Partner `yaml:"partners"`
	// Retention is how long each class of data is kept.
	Retention Retention `yaml:"retention"`
}

// Site is one website and its rules.
type Site struct {
	Domain string `yaml:"domain"`
	// HashRouting keeps "#/route" fragments as part of the page path.
	HashRouting bool `yaml:"hash_routing"`
	// AllowedQuery lists the query parameters kept in page URLs; all others
	// are dropped (sensitive ones always are).
	AllowedQuery []string `yaml:"allowed_query"`
	Consent      Consent  `yaml:"consent"`
	// TimeZone is the IANA zone of the site's daily aggregation windows and
	// partner days (default UTC); hourly windows are always UTC.
	TimeZone string `yaml:"timezone"`
	// Exempt turns on consent-exempt audience measurement (see exempt.go):
	// visitors who have made no decision are counted without a cookie and
	// without storing their IP. Off by default.
	Exempt bool `yaml:"exempt"`
	// Reports are the site's scheduled e-mail reports (reports.go).
	Reports []Report `yaml:"reports"`
	// Goals are the site's conversion goals (goals.go), reported by the
	// stats API as property=goal and filters goal==NAME.
	Goals []Goal `yaml:"goals"`
	// Funnels are the site's funnels (funnels.go): ordered steps, each one
	// of Goals (or the built-in 404), reported by /api/v1/stats/funnel.
	Funnels []Funnel `yaml:"funnels"`
	// Share is how the site's share links anonymise (web/share): the
	// release a partner would get, made once per window and stored.
	Share Share `yaml:"share"`
}

// Consent is a site's consent policy.
type Consent struct {
	// PolicyVersion is bumped when the privacy statement changes; tokens
	// issued under an older version stop counting and the banner asks again.
	PolicyVersion uint32 `yaml:"policy_version"`
	// MaxAgeDays bounds how long a decision counts (default 395, 13 months).
	MaxAgeDays int `yaml:"max_age_days"`
	// GPC is what Sec-GPC: 1 does: deny_marketing (default) or ignore.
	GPC string `yaml:"gpc"`
	// DNT is what DNT: 1 does: like_gpc (default) or ignore.
	DNT string `yaml:"dnt"`
	// Banner replaces texts of the built-in banner per language (en, de, fr).
	Banner map[string]BannerText `yaml:"banner"`
	// GoogleConsentMode has the banner tell Google Consent Mode v2 (the
	// page's gtag or dataLayer) what the visitor decided, so that Google's
	// tags on the page follow Footfall's banner. Off by default; leave it
	// off when another consent platform on the page speaks for the
	// visitor (Footfall then follows that platform instead).
	GoogleConsentMode bool `yaml:"google_consent_mode"`
}

// BannerText is what the banner shows in one language.
type BannerText struct {
	Title           string `yaml:"title" json:"title"`
	Text            string `yaml:"text" json:"text"`
	AcceptAll       string `yaml:"accept_all" json:"accept_all"`
	RejectAll       string `yaml:"reject_all" json:"reject_all"`
	Customize       string `yaml:"customize" json:"customize"`
	Save            string `yaml:"save" json:"save"`
	Necessary       string `yaml:"necessary" json:"necessary"`
	Analytics       string `yaml:"analytics" json:"analytics"`
	Personalization string `yaml:"personalization" json:"personalization"`
	Marketing       string `yaml:"marketing" json:"marketing"`
}

// Hash is the hex SHA-256 of the text, field by field; the consent ledger
// records it as proof of what was shown.
func (b BannerText) Hash() string {
	h := sha256.New()
	for _, s := range []string{b.Title, b.Text, b.AcceptAll, b.RejectAll, b.Customize, b.Save, b.Necessary, b.Analytics, b.Personalization, b.Marketing} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Languages the built-in banner speaks.
var Languages = []string{"en", "de", "fr"}

//go:embed banner_defaults.yaml
var bannerDefaultsYAML []byte

// DefaultBanner is the built-in banner text by language.
func DefaultBanner() map[string]BannerText {
	var m map[string]BannerText
	if err := yaml.Unmarshal(bannerDefaultsYAML, &m); err != nil {
		panic("config: built-in banner texts: " + err.Error())
	}
	return m
}

// Load reads and validates the file at path, reporting every problem at once.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// Parse reads and validates a configuration and fills in defaults.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) validate() error {
	var errs []error
	seen := map[string]bool{}
	defaults := DefaultBanner()
	for i := range c.Sites {
		s := &c.Sites[i]
		where := fmt.Sprintf("config: sites[%d]", i)
		d, err := store.NormalizeDomain(s.Domain)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		} else {
			if seen[d] {
				errs = append(errs, fmt.Errorf("%s: %s is listed twice", where, d))
			}
			seen[d] = true
			s.Domain = d
		}
		errs = append(errs, s.Consent.validate(where+".consent", defaults)...)
		errs = append(errs, validateReports(where, s.Reports)...)
		errs = append(errs, validateGoals(where, s.Goals)...)
		errs = append(errs, validateFunnels(where, s.Funnels)...)
		errs = append(errs, s.Share.validate(where+".share")...)
	}
	errs = append(errs, c.validateAggregation()...)
	errs = append(errs, c.validatePartnerFunnels()...) // after the partners' sites are normalized
	errs = append(errs, c.Retention.validate()...)
	errs = append(errs, c.validateExempt()...)
	return errors.Join(errs...)
}

func (p *Consent) validate(where string, defaults map[string]BannerText) []error {
	var errs []error
	if p.PolicyVersion == 0 {
		p.PolicyVersion = 1
	}
	if p.MaxAgeDays == 0 {
		p.MaxAgeDays = 395
	}
	if p.MaxAgeDays < 1 || p.MaxAgeDays > 395 {
		errs = append(errs, fmt.Errorf("%s.max_age_days: want 1 to 395 (13 months), got %d", where, p.MaxAgeDays))
	}
	if p.GPC == "" {
		p.GPC = "deny_marketing"
	}
	if p.GPC != "deny_marketing" && p.GPC != "ignore" {
		errs = append(errs, fmt.Errorf("%s.gpc: want deny_marketing or ignore, got %q", where, p.GPC))
	}
	if p.DNT == "" {
		p.DNT = "like_gpc"
	}
	if p.DNT != "like_gpc" && p.DNT != "ignore" {
		errs = append(errs, fmt.Errorf("%s.dnt: want like_gpc or ignore, got %q", where, p.DNT))
	}
	merged := make(map[string]BannerText, len(defaults))
	for lang, def := range defaults {
		merged[lang] = def
	}
	for lang, t := range p.Banner {
		if !slices.Contains(Languages, lang) {
			errs = append(errs, fmt.Errorf("%s.banner.%s: languages are %s", where, lang, strings.Join(Languages, ", ")))
			continue
		}
		merged[lang] = overlay(defaults[lang], t)
	}
	p.Banner = merged
	return errs
}

// overlay replaces the default text's fields that t sets.
func overlay(def, t BannerText) BannerText {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return BannerText{
		Title: pick(def.Title, t.Title), Text: pick(def.Text, t.Text),
		AcceptAll: pick(def.AcceptAll, t.AcceptAll), RejectAll: pick(def.RejectAll, t.RejectAll),
		Customize: pick(def.Customize, t.Customize), Save: pick(def.Save, t.Save),
		Necessary: pick(def.Necessary, t.Necessary), Analytics: pick(def.Analytics, t.Analytics),
		Personalization: pick(def.Personalization, t.Personalization), Marketing: pick(def.Marketing, t.Marketing),
	}
}

// DefaultConsent is the policy of a site the config does not list.
func DefaultConsent() Consent {
	var p Consent
	p.validate("", DefaultBanner())
	return p
}

// SiteByDomain returns the configured rules of a site, or defaults.
func (c *Config) SiteByDomain(domain string) Site {
	for _, s := range c.Sites {
		if s.Domain == domain {
			return s
		}
	}
	return Site{Domain: domain, Consent: DefaultConsent()}
}
