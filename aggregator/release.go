package aggregator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/differential-privacy/go/v3/noise"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// CellSource is what releases are computed from; both stores satisfy it.
type CellSource interface {
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error)
}

// Noise adds differential-privacy noise to a count whose every contributor
// changes at most l0 counts of the release by at most linf each, so that the
// count alone is epsilon-differentially private.
type Noise interface {
	AddNoise(x, l0, linf int64, epsilon float64) (int64, error)
}

// LaplaceNoise is the Laplace mechanism of Google's differential-privacy
// library: scale l0·linf/epsilon, sampled without the floating-point
// artefacts of a naive sampler.
type LaplaceNoise struct{}

// AddNoise implements Noise.
func (LaplaceNoise) AddNoise(x, l0, linf int64, epsilon float64) (int64, error) {
	return noise.Laplace().AddNoiseInt64(x, l0, linf, epsilon, 0)
}

// ReleaseRequest asks for a partner's release of the days From to To
// (inclusive, calendar dates in each site's zone).
type ReleaseRequest struct {
	Partner config.Partner
	From    time.Time // a date: only its year, month and day count
	To      time.Time // inclusive
	// Zone returns a site's IANA time zone ("" for UTC); nil: UTC.
	Zone func(domain string) string
	// Noise is the DP mechanism when the partner has an epsilon; default
	// LaplaceNoise.
	Noise Noise
	// Now stamps the release; default time.Now.
	Now func() time.Time
	// Goals and Funnels give a site's goals and funnels of the config file
	// (config.SiteGoals, SiteFunnels), for the partner's funnel tables;
	// nil: none. The store's goals are merged in (store.MergeGoals).
	Goals   func(domain string) []store.Goal
	Funnels func(domain string) []store.Funnel
}

// FunnelSource is what funnel tables are computed from; both stores
// satisfy it.
type FunnelSource interface {
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
	PageviewCounts(ctx context.Context, q store.CountQuery) ([]store.Count, error)
	Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error)
}

// Release is a partner's anonymised aggregates for a range of days: what
// exports write and the partner API will serve. Every value in it has
// passed the anonymisation rules of the package documentation.
type Release struct {
	Partner     string
	From, To    string // dates, inclusive, YYYY-MM-DD
	GeneratedAt time.Time
	Params      ReleaseParams
	// Tables holds one table per dimension, in the partner's order.
	Tables []Table
}

// ReleaseParams are the parameters a release was made with.
type ReleaseParams struct {
	Sites      []string          `json:"sites"`
	TimeZones  map[string]string `json:"time_zones"`
	Dimensions []string          `json:"dimensions"`
	Metrics    []string          `json:"metrics"`
	K          int               `json:"k"`
	// Noise is "none" or "laplace".
	Noise   string  `json:"noise"`
	Epsilon float64 `json:"epsilon"`
	// EpsilonPerCount is the share of Epsilon spent on each (dimension,
	// metric) count: Epsilon / (dimensions × metrics).
	EpsilonPerCount float64 `json:"epsilon_per_count,omitempty"`
	// Bounds limit each visitor's contribution (with noise only).
	Bounds *config.Bounds `json:"bounds,omitempty"`
	// NoiseScale is the Laplace scale (the mean absolute error) per metric,
	// and per funnel table (funnel:NAME) of its visitors.
	NoiseScale map[string]float64 `json:"noise_scale,omitempty"`
	// Funnels are the funnels whose tables the release has.
	Funnels []string `json:"funnels,omitempty"`
}

// Table is a release's counts by one dimension.
type Table struct {
	Dimension string
	Rows      []Row
}

// Row is one published cell: a site's day and dimension value with the
// release's metrics, in ReleaseParams.Metrics order.
type Row struct {
	Site    string
	Day     string // YYYY-MM-DD in the site's zone
	Value   string
	Metrics []int64
}

// NewRelease computes a partner's release from the raw events in the store,
// within their retention. Per site and day it asks the store for the cells
// of every dimension (GPC visitor keys excluded, bots never counted), keeps
// the cells that cover at least K distinct visitors and whose value does not
// look like an identifier, asks again with every other cell folded into an
// "(other)" cell per day and dimension (visitors counted distinctly), drops
// that cell too when it covers fewer than K visitors, and, with an epsilon,
// adds Laplace noise to every published count. Cells are suppressed by
// their true counts, so the k guarantee holds with or without noise.
func NewRelease(ctx context.Context, src CellSource, req ReleaseRequest) (*Release, error) {
	p := req.Partner
	if req.Zone == nil {
		req.Zone = func(string) string { return "" }
	}
	if req.Noise == nil {
		req.Noise = LaplaceNoise{}
	}
	if req.Now == nil {
		req.Now = time.Now
	}
	from, to := civilDate(req.From), civilDate(req.To)
	if to.Before(from) {
		return nil, fmt.Errorf("release for %s: %s is after %s", p.Name, from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	if len(p.Sites) == 0 || len(p.Dimensions) == 0 || len(p.Metrics) == 0 || p.K < 2 {
		return nil, fmt.Errorf("release for %s: partner config not validated (sites, dimensions, metrics, k)", p.Name)
	}
	// Only the dimensions config lets partners list: never the e-mail
	// dimensions (no visitor key, so no k to check) or event targets.
	for _, d := range p.Dimensions {
		if !slices.Contains(config.PartnerDimensions, d) {
			return nil, fmt.Errorf("release for %s: dimension %q is not shareable", p.Name, d)
		}
	}
	r := &Release{
		Partner: p.Name, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		GeneratedAt: req.Now().UTC().Truncate(time.Second),
		Params: ReleaseParams{
			Sites: p.Sites, TimeZones: map[string]string{}, Dimensions: p.Dimensions, Metrics: p.Metrics,
			K: p.K, Noise: "none",
		},
	}
	dp := p.Epsilon > 0
	var bounds config.Bounds
	if dp {
		bounds = p.Bounds
		r.Params.Noise, r.Params.Epsilon, r.Params.Bounds = "laplace", p.Epsilon, &bounds
		// Each funnel table is one more count: its visitors.
		r.Params.EpsilonPerCount = p.Epsilon / float64(len(p.Dimensions)*len(p.Metrics)+len(p.Funnels))
		r.Params.NoiseScale = map[string]float64{}
		for _, m := range p.Metrics {
			r.Params.NoiseScale[m] = float64(int64(bounds.MaxCells)*linf(m, bounds)) / r.Params.EpsilonPerCount
		}
	}
	r.Params.Funnels = p.Funnels
	dims := make([]string, len(p.Dimensions))
	tables := map[string]*Table{}
	for i, d := range p.Dimensions {
		dims[i] = config.StoreDimension(d)
		r.Tables = append(r.Tables, Table{Dimension: d})
	}
	for _, f := range p.Funnels {
		r.Tables = append(r.Tables, Table{Dimension: FunnelTable(f)})
	}
	for i := range r.Tables {
		if i < len(dims) {
			tables[dims[i]] = &r.Tables[i]
		}
	}
	for _, domain := range p.Sites {
		site, err := src.SiteByDomain(ctx, domain)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("release for %s: site %s is not registered", p.Name, domain)
		}
		if err != nil {
			return nil, fmt.Errorf("release for %s: %w", p.Name, err)
		}
		zone := req.Zone(domain)
		loc, err := store.LoadZone(zone)
		if err != nil {
			return nil, fmt.Errorf("release for %s: site %s: %w", p.Name, domain, err)
		}
		r.Params.TimeZones[domain] = loc.String()
		q := store.CellQuery{
			SiteID: site.ID, TimeZone: zone, Dimensions: dims,
			From:               time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc).UTC(),
			To:                 time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc).UTC(),
			MaxCellsPerVisitor: bounds.MaxCells, MaxVisits: bounds.MaxVisits,
			MaxPageviews: bounds.MaxPageviews, MaxEvents: bounds.MaxEvents,
		}
		cells, err := src.PartnerCells(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("release for %s: site %s: %w", p.Name, domain, err)
		}
		for _, c := range cells {
			if c.TrueVisitors >= uint64(p.K) && Publishable(c.Value) {
				q.Keep = append(q.Keep, store.CellKey(c.Day, c.Dimension, c.Value))
			}
		}
		kept := map[string]bool{}
		for _, k := range q.Keep {
			kept[k] = true
		}
		q.Fold = true
		cells, err = src.PartnerCells(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("release for %s: site %s: %w", p.Name, domain, err)
		}
		for _, c := range cells {
			if c.TrueVisitors < uint64(p.K) {
				continue // an (other) cell too small to publish
			}
			if c.Value != store.OtherValue && !kept[store.CellKey(c.Day, c.Dimension, c.Value)] {
				return nil, fmt.Errorf("release for %s: store returned unfolded cell %s/%s", p.Name, c.Dimension, c.Value)
			}
			row := Row{Site: domain, Day: c.Day.In(loc).Format(time.DateOnly), Value: c.Value}
			for _, m := range p.Metrics {
				v := metric(c, m, dp)
				if dp {
					if v, err = req.Noise.AddNoise(v, int64(bounds.MaxCells), linf(m, bounds), r.Params.EpsilonPerCount); err != nil {
						return nil, fmt.Errorf("release for %s: noise: %w", p.Name, err)
					}
					v = max(v, 0)
				}
				row.Metrics = append(row.Metrics, v)
			}
			t := tables[c.Dimension]
			t.Rows = append(t.Rows, row)
		}
		for i, name := range p.Funnels {
			t := &r.Tables[len(dims)+i]
			if err := funnelRows(ctx, src, req, r, site, loc, name, t); err != nil {
				return nil, fmt.Errorf("release for %s: site %s: funnel %q: %w", p.Name, domain, name, err)
			}
		}
	}
	for i := range r.Tables {
		slices.SortFunc(r.Tables[i].Rows, func(a, b Row) int {
			return strings.Compare(a.Site+"\x00"+a.Day+"\x00"+a.Value, b.Site+"\x00"+b.Day+"\x00"+b.Value)
		})
	}
	return r, nil
}

// FunnelTable names the release table of the funnel name.
func FunnelTable(name string) string { return store.DimFunnel + ":" + name }

// funnelRows adds to t the site's rows of the funnel name over the whole
// window [r.From, r.To] (visits cut at its edges only): per step, the
// distinct visitors that reached it in order, GPC visitors left out, its
// value "N. GOAL" and its day the window's first. A step under k visitors
// is suppressed (as every later one is then: none has more visitors); with
// an epsilon its count gets Laplace noise of l0 = the steps (a visitor
// counts once in each step it reached) and linf = 1, at the release's
// epsilon per count. Funnel rows count visitors only: their other metrics
// are 0. A site without the funnel has no rows.
func funnelRows(ctx context.Context, src CellSource, req ReleaseRequest, r *Release, site store.Site, loc *time.Location, name string, t *Table) error {
	var funnel *store.Funnel
	if req.Funnels != nil {
		for _, f := range req.Funnels(site.Domain) {
			if f.Name == name {
				funnel = &f
			}
		}
	}
	if funnel == nil {
		return nil
	}
	fs, ok := src.(FunnelSource)
	if !ok {
		return errors.New("this store answers no funnels")
	}
	from, _ := time.ParseInLocation(time.DateOnly, r.From, loc)
	to, _ := time.ParseInLocation(time.DateOnly, r.To, loc)
	to = to.AddDate(0, 0, 1)
	stored, err := fs.Goals(ctx, site.ID)
	if err != nil {
		return err
	}
	var configured []store.Goal
	if req.Goals != nil {
		configured = req.Goals(site.Domain)
	}
	goals := store.MergeGoals(configured, stored)
	var paths []string
	if store.NeedsPaths(goals) {
		counts, err := fs.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: from.UTC(), To: to.UTC(), By: store.ByPath})
		if err != nil {
			return err
		}
		for _, c := range counts {
			paths = append(paths, c.Key)
		}
	}
	rows, err := fs.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{
		SiteID: site.ID, Dimension: store.DimFunnel, Filters: []store.Filter{store.EveryFunnelVisit},
		From: from.UTC(), To: to.UTC(), Goals: store.MatchGoals(goals, paths), Funnel: funnel.Steps, ExcludeGPC: true,
	})
	if err != nil {
		return err
	}
	p := req.Partner
	for _, row := range rows {
		n, err := strconv.Atoi(row.Value)
		if err != nil || n < 1 || n > len(funnel.Steps) {
			return fmt.Errorf("the store answered step %q", row.Value)
		}
		if row.Visitors < uint64(p.K) {
			continue
		}
		out := Row{Site: site.Domain, Day: r.From, Value: fmt.Sprintf("%d. %s", n, funnel.Steps[n-1])}
		for _, m := range p.Metrics {
			var v int64
			if m == "visitors" {
				v = int64(row.Visitors)
				if p.Epsilon > 0 {
					if v, err = req.Noise.AddNoise(v, int64(len(funnel.Steps)), 1, r.Params.EpsilonPerCount); err != nil {
						return fmt.Errorf("noise: %w", err)
					}
					v = max(v, 0)
				}
			}
			out.Metrics = append(out.Metrics, v)
		}
		t.Rows = append(t.Rows, out)
	}
	if p.Epsilon > 0 {
		// The largest of the sites' (a funnel's steps may differ by site).
		r.Params.NoiseScale[t.Dimension] = max(r.Params.NoiseScale[t.Dimension], float64(len(funnel.Steps))/r.Params.EpsilonPerCount)
	}
	return nil
}

// civilDate keeps only the calendar date of t.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// metric is a cell's count of m: with noise the bounded count, else the
// exact one.
func metric(c store.Cell, m string, bounded bool) int64 {
	switch m {
	case "visitors":
		if bounded {
			return int64(c.Visitors)
		}
		return int64(c.TrueVisitors)
	case "visits":
		return int64(c.Visits)
	case "pageviews":
		return int64(c.Pageviews)
	case "events":
		return int64(c.Events)
	}
	panic("aggregator: unknown metric " + m)
}

// linf is the most one visitor adds to metric m of one cell.
func linf(m string, b config.Bounds) int64 {
	switch m {
	case "visits":
		return int64(b.MaxVisits)
	case "pageviews":
		return int64(b.MaxPageviews)
	case "events":
		return int64(b.MaxEvents)
	}
	return 1
}

// identifying matches values that look like identifiers of a person or a
// device: IP addresses, UUIDs, long hex or base64 tokens, e-mail addresses,
// click ids and query strings, long digit runs (phone, account and order
// numbers).
var identifying = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`),                                                             // IPv4
	regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b|::(?:[0-9a-f]{1,4}:?){1,7}`),                 // IPv6
	regexp.MustCompile(`(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`),                    // UUID
	regexp.MustCompile(`(?i)[0-9a-f]{16,}`),                                                                       // hashes, keys
	regexp.MustCompile(`[^\s@/]+@[^\s@/]+\.[A-Za-z]{2,}`),                                                         // e-mail
	regexp.MustCompile(`(?i)(?:gclid|gbraid|wbraid|dclid|fbclid|msclkid|yclid|ttclid|twclid|li_fat_id|mc_eid)=?`), // click ids
	regexp.MustCompile(`[?&=]`),                                                                                   // query strings
	regexp.MustCompile(`\d{9,}`),                                                                                  // long numbers
}

// tokenRun is a run of the characters of base64url tokens and of slugs.
var tokenRun = regexp.MustCompile(`[A-Za-z0-9_-]{24,}`)

// Publishable reports whether a dimension value may appear in a release on
// its own. Values that look like identifiers are folded into "(other)"
// whatever their visitor count, and so is a raw value equal to "(other)".
func Publishable(v string) bool {
	if v == store.OtherValue || len(v) > 512 {
		return false
	}
	for _, re := range identifying {
		if re.MatchString(v) {
			return false
		}
	}
	for _, run := range tokenRun.FindAllString(v, -1) {
		// A token, not a slug like how-to-count-visitors-without-cookies:
		// few hyphens and several digits.
		if strings.Count(run, "-") <= 2 && strings.Count(run, "_") <= 2 && countDigits(run) >= 4 {
			return false
		}
	}
	return true
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
