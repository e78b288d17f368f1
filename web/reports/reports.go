// Package reports is the analysts' stats API (/api/v1/...) and the
// partners' aggregates API (/api/partner/v1/...).
//
// The stats endpoints read the aggregator's rollups: hourly windows (UTC
// hours) and daily windows (days in the site's zone), the current window
// included and marked partial. What the rollups answer and what needs the
// raw events:
//
//   - Counts that add up over windows (visits, pageviews, events, bounces,
//     durations, engaged time) are summed from the windows' rows. Visits
//     are cut at window edges, as the aggregator defines them.
//   - Unique visitors of one window come from its row. Unique visitors of a
//     range of several windows are never summed: they are counted exactly
//     from the raw events, within their retention — all visitors with
//     DistinctVisitors, those of a dimension value (a filter with "==", a
//     breakdown) with VisitorsByValue, which applies the rollups' rules to
//     the whole range as one window.
//   - Filters (at most store.MaxFilters, separated by ';') are combined
//     with AND. A visit matches "==" or "~" (contains, case-insensitive)
//     when its value of a session dimension does, or one of its events'
//     values of an event dimension does; it matches "!=" when it does not
//     have the value (for an event dimension: none of its events has it).
//   - The rollups answer exactly, and so are read, for no filter; for one
//     filter on a session dimension (the rows whose value matches), except
//     visitors under "!=" and "~" (VisitorsMatching counts them from the
//     raw events, as one window); and for one "==" filter on an event
//     dimension its visitors, visits, pageviews and events (those of the
//     events with the value, as the rollup rows count them). A breakdown
//     reads them unfiltered or filtered on its own property only.
//   - Everything else reads the raw events within their retention
//     (FilteredBreakdown): the rollups' rules over the whole period as one
//     window (a timeseries: each point one window, all points in one
//     query), the visits that match every filter, and all their pageviews,
//     events and durations. A breakdown of a filtered property lists only
//     the values the filters on it allow. Because the period is one window,
//     a visit across midnight counts once there, where summed daily rollups
//     count it once per day.
//   - The e-mail dimensions count events that belong to no visit: a filter
//     on one goes only alone on a breakdown of it (the rollups), and a
//     breakdown of one takes no other filter.
//
// The partner endpoint serves exactly the release aggregator.NewRelease
// makes for the partner named by the token.
package reports

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Store is what the reports read; both backends satisfy it.
type Store interface {
	Sites(ctx context.Context) ([]store.Site, error)
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error)
	ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error)
	Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error)
	DistinctVisitors(ctx context.Context, q store.VisitorQuery) (uint64, error)
	VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error)
	VisitorsMatching(ctx context.Context, q store.MatchVisitorQuery) (uint64, error)
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
	PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error)
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
	AddPartnerRelease(ctx context.Context, r store.PartnerRelease) error
	PartnerRelease(ctx context.Context, partner, from, to string) (store.PartnerRelease, error)
	PartnerReleases(ctx context.Context, partner string, since time.Time) ([]store.PartnerRelease, error)
}

// Options are what a Handler needs. Store is required.
type Options struct {
	Store Store
	// Config gives site time zones and partners; nil is an empty config.
	Config *config.Config
	// Noise is the partner releases' DP mechanism; default Laplace.
	Noise aggregator.Noise
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Budget is each report's time limit (Handler.Budget); default
	// DefaultBudget. Keep it below the HTTP server's write timeout.
	Budget time.Duration
	// Metrics registers the reports' counters; nil keeps them unregistered.
	Metrics prometheus.Registerer
}

// Handler serves the reports. Its methods are httpapi handlers meant to sit
// behind auth.Require (server/routes.go).
type Handler struct {
	st    Store
	cfg   *config.Config
	noise aggregator.Noise
	now   func() time.Time
	// releases serves partner releases once per window, under budget.
	releases *aggregator.Releaser

	budget     time.Duration
	overBudget prometheus.Counter
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Config == nil {
		opts.Config = &config.Config{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	return &Handler{st: opts.Store, cfg: opts.Config, noise: opts.Noise, now: opts.Now, releases: aggregator.NewReleaser(opts.Store),
		budget: opts.Budget, overBudget: newOverBudget(opts.Metrics)}
}

// Metrics are the metric names, in their canonical order.
var Metrics = []string{"visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration", "engaged_time"}

// Periods are the period names.
var Periods = []string{"day", "7d", "30d", "month", "12mo", "custom"}

// Intervals are the timeseries interval names.
var Intervals = []string{"hour", "day", "week", "month"}

// maxLimit caps a breakdown page.
const maxLimit = 1000

// siteFor resolves the site parameter and checks the principal may read it.
func (h *Handler) siteFor(r *http.Request, domain string) (store.Site, error) {
	if domain == "" {
		return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "site is required")
	}
	p, ok := auth.FromRequest(r)
	if !ok {
		return store.Site{}, httpapi.Errorf(http.StatusUnauthorized, "authentication required")
	}
	site, err := h.st.SiteByDomain(r.Context(), domain)
	if errors.Is(err, store.ErrNotFound) {
		// A scoped principal learns nothing about sites out of its scope.
		if p.Sites != nil {
			return store.Site{}, httpapi.Errorf(http.StatusForbidden, "forbidden")
		}
		return store.Site{}, httpapi.Errorf(http.StatusNotFound, "no such site")
	}
	if err != nil {
		return store.Site{}, err
	}
	if !p.CanSite(site.ID) {
		return store.Site{}, httpapi.Errorf(http.StatusForbidden, "forbidden")
	}
	return site, nil
}

// span is a reporting range: [From, To) as instants, and the days.
type span struct {
	From, To time.Time
	Days     int
	Loc      *time.Location
	Period   string
}

// parseSpan reads period, date, from and to in the site's zone.
func (h *Handler) parseSpan(q map[string]string, domain string) (span, error) {
	loc, err := store.LoadZone(h.cfg.SiteZone(domain))
	if err != nil {
		return span{}, err
	}
	period := q["period"]
	if period == "" {
		period = "30d"
	}
	if !slices.Contains(Periods, period) {
		return span{}, httpapi.Errorf(http.StatusBadRequest, "unknown period %q; want one of %s", period, strings.Join(Periods, ", "))
	}
	now := h.now().In(loc)
	anchor := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if d := q["date"]; d != "" {
		if anchor, err = time.ParseInLocation(time.DateOnly, d, loc); err != nil {
			return span{}, httpapi.Errorf(http.StatusBadRequest, "date: want YYYY-MM-DD, got %q", d)
		}
	}
	day := func(t time.Time, add int) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day()+add, 0, 0, 0, 0, loc)
	}
	var from, to time.Time // local midnights, to exclusive
	switch period {
	case "day":
		from, to = anchor, day(anchor, 1)
	case "7d":
		from, to = day(anchor, -6), day(anchor, 1)
	case "30d":
		from, to = day(anchor, -29), day(anchor, 1)
	case "month":
		from = time.Date(anchor.Year(), anchor.Month(), 1, 0, 0, 0, 0, loc)
		to = time.Date(anchor.Year(), anchor.Month()+1, 1, 0, 0, 0, 0, loc)
	case "12mo":
		from = time.Date(anchor.Year(), anchor.Month()-11, 1, 0, 0, 0, 0, loc)
		to = time.Date(anchor.Year(), anchor.Month()+1, 1, 0, 0, 0, 0, loc)
	case "custom":
		f, err1 := time.ParseInLocation(time.DateOnly, q["from"], loc)
		t, err2 := time.ParseInLocation(time.DateOnly, q["to"], loc)
		if err1 != nil || err2 != nil {
			return span{}, httpapi.Errorf(http.StatusBadRequest, "period=custom needs from and to as YYYY-MM-DD")
		}
		if t.Before(f) {
			return span{}, httpapi.Errorf(http.StatusBadRequest, "from is after to")
		}
		from, to = f, day(t, 1)
	}
	if period != "custom" && (q["from"] != "" || q["to"] != "") {
		return span{}, httpapi.Errorf(http.StatusBadRequest, "from and to need period=custom")
	}
	days := len(store.Windows(store.Daily, loc, from.UTC(), to.UTC()))
	if days > 3700 {
		return span{}, httpapi.Errorf(http.StatusBadRequest, "range too long")
	}
	return span{From: from.UTC(), To: to.UTC(), Days: days, Loc: loc, Period: period}, nil
}

func parseMetrics(s string) ([]string, error) {
	if s == "" {
		return []string{"visitors", "pageviews"}, nil
	}
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(Metrics, m) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "unknown metric %q; want some of %s", m, strings.Join(Metrics, ", "))
		}
		if slices.Contains(out, m) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "metric %q listed twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// filter is one dimension==value, dimension!=value or dimension~value.
type filter struct {
	Dim, Op, Value string
}

func (f filter) match(v string) bool {
	switch f.Op {
	case "==":
		return v == f.Value
	case "!=":
		return v != f.Value
	default:
		return strings.Contains(strings.ToLower(v), strings.ToLower(f.Value))
	}
}

// parseFilters reads the filters parameter: filters separated by ';',
// combined with AND, at most store.MaxFilters.
func parseFilters(s string) ([]filter, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	if len(parts) > store.MaxFilters {
		return nil, httpapi.Errorf(http.StatusBadRequest, "too many filters: %d, at most %d", len(parts), store.MaxFilters)
	}
	var out []filter
	for _, part := range parts {
		var f filter
		for _, op := range store.FilterOps {
			if d, v, ok := strings.Cut(part, op); ok {
				f = filter{Dim: strings.TrimSpace(d), Op: op, Value: v}
				break
			}
		}
		if f.Op == "" || !validDimension(f.Dim) {
			return nil, httpapi.Errorf(http.StatusBadRequest, "bad filter %q: want dimension==value, dimension!=value or dimension~value over %s", part, strings.Join(dimensions(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

// checkEmailFilters refuses filters on an e-mail dimension except as the
// only filter of a breakdown of that dimension (prop; "" for aggregate and
// timeseries): e-mail events belong to no visit, so such a filter selects
// none and other filters select none of them.
func checkEmailFilters(filters []filter, prop string) error {
	for _, f := range filters {
		if store.EmailDimension(f.Dim) && (f.Dim != prop || len(filters) > 1) {
			return httpapi.Errorf(http.StatusBadRequest, "a filter on %s (e-mail events, which belong to no visit) goes only alone, on a breakdown of %s", f.Dim, f.Dim)
		}
	}
	if store.EmailDimension(prop) && len(filters) > 0 && filters[0].Dim != prop {
		return httpapi.Errorf(http.StatusBadRequest, "%s counts e-mail events, which belong to no visit; it takes no filters on other dimensions", prop)
	}
	return nil
}

// matchesAll reports whether a row's value passes every filter on the
// row's dimension: a breakdown of a filtered property lists only the
// values the filters allow.
func matchesAll(filters []filter, r store.RollupRow) bool {
	for _, f := range filters {
		if f.Dim == r.Dimension && !f.match(r.Value) {
			return false
		}
	}
	return true
}

// storeFilters are filters as the store takes them.
func storeFilters(fs []filter) []store.Filter {
	out := make([]store.Filter, len(fs))
	for i, f := range fs {
		out[i] = store.Filter{Dim: f.Dim, Op: f.Op, Value: f.Value}
	}
	return out
}

// dimensions are the rollup dimensions a report may name (not the total).
func dimensions() []string { return store.RollupDimensions[1:] }

func validDimension(d string) bool { return d != "" && slices.Contains(store.RollupDimensions, d) }

// sums is rollup rows added up.
type sums struct {
	visitors                                                 uint64
	visits, pageviews, events, bounces, durationS, engagedMS uint64
	partial                                                  bool
}

func (s *sums) add(r store.RollupRow) {
	s.visitors += r.Visitors
	s.visits += r.Visits
	s.pageviews += r.Pageviews
	s.events += r.Events
	s.bounces += r.Bounces
	s.durationS += r.DurationSec
	s.engagedMS += r.EngagedMS
	s.partial = s.partial || r.Partial
}

// value is a metric of s: counts as integers, bounce_rate in percent and the
// durations in seconds per visit, rounded.
func (s sums) value(m string) any {
	per := func(x uint64) float64 {
		if s.visits == 0 {
			return 0
		}
		return math.Round(float64(x)/float64(s.visits)*10) / 10
	}
	switch m {
	case "visitors":
		return s.visitors
	case "visits":
		return s.visits
	case "pageviews":
		return s.pageviews
	case "events":
		return s.events
	case "bounce_rate":
		return per(s.bounces * 100)
	case "visit_duration":
		return per(s.durationS)
	default: // engaged_time
		if s.visits == 0 {
			return 0.0
		}
		return math.Round(float64(s.engagedMS)/float64(s.visits)/100) / 10
	}
}

// selection is which rollup rows a report adds up.
type selection struct {
	dim string
	f   *filter
}

func (sel selection) takes(r store.RollupRow) bool {
	if r.Dimension != sel.dim {
		return false
	}
	return sel.f == nil || sel.f.match(r.Value)
}

// plan is how an aggregate or a timeseries answers: which metrics the
// rollup rows of sel give, and which the raw events give (rawMetrics, all
// of them when rollups is false).
type plan struct {
	sel        selection
	rollups    bool     // the rollups answer some metrics
	rawMetrics []string // metrics read from the raw events (FilteredBreakdown)
	filters    []filter
}

// planFor decides, per metric, whether the rollups answer it exactly (see
// the package comment). Visitors are the callers' to complete: the rows
// of sel give them for one window and "==" only (visitorsExact); otherwise
// an aggregate counts them with rangeVisitors, a timeseries from the raw
// events.
func planFor(filters []filter, metrics []string) plan {
	if len(filters) == 0 {
		return plan{sel: selection{dim: store.DimTotal}, rollups: true}
	}
	f := filters[0]
	p := plan{sel: selection{dim: f.Dim, f: &f}, rollups: true, filters: filters}
	event := !store.SessionDimension(f.Dim)
	if len(filters) > 1 || event && f.Op != "==" {
		// Several filters; or "visits with a page other than / containing
		// X", which rows per page cannot tell.
		p.rollups, p.rawMetrics = false, metrics
		return p
	}
	for _, m := range metrics {
		if event && (m == "bounce_rate" || m == "visit_duration" || m == "engaged_time") {
			// Rows of an event dimension keep no bounces or durations.
			p.rawMetrics = append(p.rawMetrics, m)
		}
	}
	return p
}

// visitorsExact reports whether the rows the plan selects give a point's
// visitors: one window (not multi) and no filter or an "==" one. A
// visitor may have several values, so rows of "!=" or "~" would count
// one visitor more than once, as rows of several windows would.
func (p plan) visitorsExact(multi bool) bool {
	return !multi && (p.sel.f == nil || p.sel.f.Op == "==")
}

// needsVisitors reports whether a point's visitors are asked for and
// neither the raw query nor the rows answer them.
func (p plan) needsVisitors(metrics []string, multi bool) bool {
	return p.rollups && slices.Contains(metrics, "visitors") && !slices.Contains(p.rawMetrics, "visitors") && !p.visitorsExact(multi)
}

// point is the numbers of one aggregate or one timeseries point.
type point struct {
	roll, raw  sums
	rawMetrics []string
}

func (p point) value(m string) any {
	if slices.Contains(p.rawMetrics, m) {
		return p.raw.value(m)
	}
	return p.roll.value(m)
}

func (p point) partial() bool { return p.roll.partial || p.raw.partial }

func (h *Handler) rollups(ctx context.Context, siteID uint32, g store.Granularity, from, to time.Time) ([]store.RollupRow, error) {
	return h.st.Rollups(ctx, store.RollupQuery{SiteID: siteID, Granularity: g, From: from, To: to})
}

// rawPoints answers the plan's raw metrics for [from, to), one point per
// bucket (buckets: their starts; nil: one point), in one query.
func (h *Handler) rawPoints(ctx context.Context, siteID uint32, p plan, from, to time.Time, buckets []time.Time) ([]sums, error) {
	n := max(len(buckets), 1)
	out := make([]sums, n)
	if len(p.rawMetrics) == 0 {
		return out, nil
	}
	rows, err := h.st.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{
		SiteID: siteID, Dimension: store.DimTotal, Filters: storeFilters(p.filters), From: from, To: to, Buckets: buckets,
	})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		i := 0
		if len(buckets) > 0 {
			i = slices.IndexFunc(buckets, func(b time.Time) bool { return b.Equal(r.WindowStart) })
			if i < 0 {
				return nil, fmt.Errorf("filtered breakdown: a row of window %v, which is no bucket", r.WindowStart)
			}
		}
		out[i].add(r)
	}
	// The raw events are read as they are: the point that holds now is
	// partial, as its rollup window would be.
	now := h.now()
	for i := range out {
		start, end := from, to
		if len(buckets) > 0 {
			start = buckets[i]
			if i+1 < len(buckets) {
				end = buckets[i+1]
			}
		}
		out[i].partial = !now.Before(start) && now.Before(end)
	}
	return out, nil
}

// total answers the metrics of [from, to) (daily windows): the selected
// rollup rows added up, exact visitors from one window's row or from the
// raw events, and what the rollups cannot answer from the raw events.
func (h *Handler) total(ctx context.Context, siteID uint32, filters []filter, from, to time.Time, days int, metrics []string) (point, error) {
	p := planFor(filters, metrics)
	var out point
	out.rawMetrics = p.rawMetrics
	if p.rollups {
		rows, err := h.rollups(ctx, siteID, store.Daily, from, to)
		if err != nil {
			return point{}, err
		}
		for _, r := range rows {
			if p.sel.takes(r) {
				out.roll.add(r)
			}
		}
		if p.needsVisitors(metrics, days > 1) {
			if out.roll.visitors, err = h.rangeVisitors(ctx, siteID, p.sel, from, to); err != nil {
				return point{}, err
			}
		}
	}
	raw, err := h.rawPoints(ctx, siteID, p, from, to, nil)
	if err != nil {
		return point{}, err
	}
	out.raw = raw[0]
	return out, nil
}

// rangeVisitors counts the distinct visitors of [from, to) from the raw
// events: all of them, or those of the selection's filter.
func (h *Handler) rangeVisitors(ctx context.Context, siteID uint32, sel selection, from, to time.Time) (uint64, error) {
	if sel.f == nil {
		return h.st.DistinctVisitors(ctx, store.VisitorQuery{SiteID: siteID, From: from, To: to})
	}
	if sel.f.Op != "==" {
		return h.st.VisitorsMatching(ctx, store.MatchVisitorQuery{SiteID: siteID, From: from, To: to,
			Filter: store.Filter{Dim: sel.dim, Op: sel.f.Op, Value: sel.f.Value}})
	}
	byValue, err := h.st.VisitorsByValue(ctx, store.ValueVisitorQuery{SiteID: siteID, Dimension: sel.dim, From: from, To: to})
	if err != nil {
		return 0, err
	}
	return byValue[sel.f.Value], nil
}

// common reads the parameters every stats report shares.
func (h *Handler) common(r *http.Request, path string) (map[string]string, store.Site, span, []string, []filter, error) {
	q, err := query(r, path)
	if err != nil {
		return nil, store.Site{}, span{}, nil, nil, err
	}
	site, err := h.siteFor(r, q["site"])
	if err != nil {
		return nil, store.Site{}, span{}, nil, nil, err
	}
	sp, err := h.parseSpan(q, site.Domain)
	if err != nil {
		return nil, store.Site{}, span{}, nil, nil, err
	}
	metrics, err := parseMetrics(q["metrics"])
	if err != nil {
		return nil, store.Site{}, span{}, nil, nil, err
	}
	filters, err := parseFilters(q["filters"])
	if err != nil {
		return nil, store.Site{}, span{}, nil, nil, err
	}
	if f := q["format"]; f != "" && f != "csv" && f != "json" {
		return nil, store.Site{}, span{}, nil, nil, httpapi.Errorf(http.StatusBadRequest, "unknown format %q; want json or csv", f)
	}
	return q, site, sp, metrics, filters, nil
}

func wantCSV(r *http.Request, q map[string]string) bool {
	if f := q["format"]; f != "" {
		return f == "csv"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// HandleAggregate serves GET /api/v1/stats/aggregate.
func (h *Handler) HandleAggregate(w http.ResponseWriter, r *http.Request) error {
	q, site, sp, metrics, filters, err := h.common(r, "/api/v1/stats/aggregate")
	if err != nil {
		return err
	}
	compare := q["compare"]
	if compare != "" && compare != "previous_period" {
		return httpapi.Errorf(http.StatusBadRequest, "unknown compare %q; want previous_period", compare)
	}
	if err := checkEmailFilters(filters, ""); err != nil {
		return err
	}
	cur, err := h.total(r.Context(), site.ID, filters, sp.From, sp.To, sp.Days, metrics)
	if err != nil {
		return err
	}
	var prev *point
	if compare != "" {
		pf := time.Date(sp.From.In(sp.Loc).Year(), sp.From.In(sp.Loc).Month(), sp.From.In(sp.Loc).Day()-sp.Days, 0, 0, 0, 0, sp.Loc).UTC()
		p, err := h.total(r.Context(), site.ID, filters, pf, sp.From, sp.Days, metrics)
		if err != nil {
			return err
		}
		prev = &p
	}
	results := map[string]any{}
	header := []string{"metric", "value"}
	if prev != nil {
		header = append(header, "previous", "change")
	}
	var records [][]string
	for _, m := range metrics {
		v := cur.value(m)
		entry := map[string]any{"value": v}
		rec := []string{m, fmt.Sprint(v)}
		if prev != nil {
			pv := prev.value(m)
			entry["previous"] = pv
			ch := change(toFloat(v), toFloat(pv))
			entry["change"] = ch
			rec = append(rec, fmt.Sprint(pv), formatChange(ch))
		}
		results[m] = entry
		records = append(records, rec)
	}
	if wantCSV(r, q) {
		return writeCSV(w, "aggregate", header, records)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"site": site.Domain, "from": sp.From.In(sp.Loc).Format(time.DateOnly),
		"to": sp.To.In(sp.Loc).AddDate(0, 0, -1).Format(time.DateOnly), "partial": cur.partial(), "results": results,
	})
	return nil
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// change is the change from prev to cur in percent, rounded; nil when prev
// is 0.
func change(cur, prev float64) *float64 {
	if prev == 0 {
		return nil
	}
	c := math.Round((cur-prev)/prev*1000) / 10
	return &c
}

func formatChange(c *float64) string {
	if c == nil {
		return ""
	}
	return strconv.FormatFloat(*c, 'f', -1, 64)
}

// bucket is one point of a timeseries: [start, end).
type bucket struct {
	start, end time.Time
	label      string
}

func buckets(sp span, interval string) []bucket {
	var out []bucket
	switch interval {
	case "hour":
		for _, w := range store.Windows(store.Hourly, nil, sp.From, sp.To) {
			out = append(out, bucket{w.Start, w.End, w.Start.Format(time.RFC3339)})
		}
	case "day":
		for _, w := range store.Windows(store.Daily, sp.Loc, sp.From, sp.To) {
			out = append(out, bucket{w.Start, w.End, w.Start.In(sp.Loc).Format(time.DateOnly)})
		}
	default:
		start := sp.From.In(sp.Loc)
		if interval == "week" { // weeks start on Monday
			start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		} else {
			start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, sp.Loc)
		}
		for start.Before(sp.To) {
			next := start.AddDate(0, 0, 7)
			if interval == "month" {
				next = start.AddDate(0, 1, 0)
			}
			// The first and last buckets are clipped to the period.
			out = append(out, bucket{maxTime(start.UTC(), sp.From), minTime(next.UTC(), sp.To), start.Format(time.DateOnly)})
			start = next
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// HandleTimeseries serves GET /api/v1/stats/timeseries.
func (h *Handler) HandleTimeseries(w http.ResponseWriter, r *http.Request) error {
	q, site, sp, metrics, filters, err := h.common(r, "/api/v1/stats/timeseries")
	if err != nil {
		return err
	}
	interval := q["interval"]
	if interval == "" {
		switch {
		case sp.Days == 1:
			interval = "hour"
		case sp.Period == "12mo" || sp.Days > 93:
			interval = "month"
		default:
			interval = "day"
		}
	}
	if !slices.Contains(Intervals, interval) {
		return httpapi.Errorf(http.StatusBadRequest, "unknown interval %q; want one of %s", interval, strings.Join(Intervals, ", "))
	}
	bs := buckets(sp, interval)
	if len(bs) > 10000 {
		return httpapi.Errorf(http.StatusBadRequest, "too many points; choose a longer interval")
	}
	if err := checkEmailFilters(filters, ""); err != nil {
		return err
	}
	multi := interval == "week" || interval == "month"
	p := planFor(filters, metrics)
	if len(filters) > 0 && p.needsVisitors(metrics, multi) {
		// Visitors of a filtered week or month, or under "!=" or "~":
		// all buckets in one raw query.
		p.rawMetrics = append(p.rawMetrics, "visitors")
	}
	points := make([]point, len(bs))
	for i := range points {
		points[i].rawMetrics = p.rawMetrics
	}
	if p.rollups {
		g := store.Daily
		if interval == "hour" {
			g = store.Hourly
		}
		rows, err := h.rollups(r.Context(), site.ID, g, sp.From, sp.To)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if !p.sel.takes(row) {
				continue
			}
			i := sort.Search(len(bs), func(i int) bool { return !bs[i].end.Before(row.WindowStart.Add(time.Second)) })
			if i < len(bs) && !row.WindowStart.Before(bs[i].start) {
				points[i].roll.add(row)
			}
		}
		if p.needsVisitors(metrics, multi) { // unfiltered weeks and months
			for i, b := range bs {
				if points[i].roll.visitors, err = h.rangeVisitors(r.Context(), site.ID, p.sel, b.start, b.end); err != nil {
					return err
				}
			}
		}
	}
	starts := make([]time.Time, len(bs))
	for i, b := range bs {
		starts[i] = b.start
	}
	// An hour that starts before a zone's midnight (a zone off UTC by
	// half an hour) is read from the period's start.
	starts[0] = maxTime(starts[0], sp.From)
	raw, err := h.rawPoints(r.Context(), site.ID, p, sp.From, sp.To, starts)
	if err != nil {
		return err
	}
	for i := range points {
		points[i].raw = raw[i]
	}
	header := append([]string{"date"}, metrics...)
	var records [][]string
	results := make([]map[string]any, 0, len(bs))
	for i, b := range bs {
		obj := map[string]any{"date": b.label}
		rec := []string{b.label}
		for _, m := range metrics {
			v := points[i].value(m)
			obj[m] = v
			rec = append(rec, fmt.Sprint(v))
		}
		if points[i].partial() {
			obj["partial"] = true
		}
		results = append(results, obj)
		records = append(records, rec)
	}
	if wantCSV(r, q) {
		return writeCSV(w, "timeseries", header, records)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"site": site.Domain, "interval": interval, "results": results})
	return nil
}

// HandleBreakdown serves GET /api/v1/stats/breakdown.
func (h *Handler) HandleBreakdown(w http.ResponseWriter, r *http.Request) error {
	q, site, sp, metrics, filters, err := h.common(r, "/api/v1/stats/breakdown")
	if err != nil {
		return err
	}
	prop := q["property"]
	if !validDimension(prop) {
		return httpapi.Errorf(http.StatusBadRequest, "property: want one of %s, got %q", strings.Join(dimensions(), ", "), prop)
	}
	limit, page := 100, 1
	if s := q["limit"]; s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxLimit {
			return httpapi.Errorf(http.StatusBadRequest, "limit: want 1 to %d, got %q", maxLimit, s)
		}
	}
	if s := q["page"]; s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 {
			return httpapi.Errorf(http.StatusBadRequest, "page: want a positive number, got %q", s)
		}
	}
	// The rollups answer without filters or with one on the property
	// itself; other filters select visits from the raw events.
	sel := selection{dim: prop}
	raw := len(filters) > 1 || len(filters) == 1 && filters[0].Dim != prop
	if len(filters) == 1 && !raw {
		sel.f = &filters[0]
	}
	if err := checkEmailFilters(filters, prop); err != nil {
		return err
	}
	for _, m := range metrics {
		if !store.SessionDimension(prop) && (m == "bounce_rate" || m == "visit_duration") {
			return httpapi.Errorf(http.StatusBadRequest, "%s is not kept for %s (an event dimension)", m, prop)
		}
	}
	var rows []store.RollupRow
	if raw {
		rows, err = h.st.FilteredBreakdown(r.Context(), store.FilteredBreakdownQuery{
			SiteID: site.ID, Dimension: prop, Filters: storeFilters(filters), From: sp.From, To: sp.To,
		})
	} else {
		rows, err = h.rollups(r.Context(), site.ID, store.Daily, sp.From, sp.To)
	}
	if err != nil {
		return err
	}
	byValue := map[string]*sums{}
	var values []string
	for _, row := range rows {
		if !sel.takes(row) || raw && !matchesAll(filters, row) {
			continue
		}
		s := byValue[row.Value]
		if s == nil {
			s = &sums{}
			byValue[row.Value] = s
			values = append(values, row.Value)
		}
		s.add(row)
	}
	if !raw && sp.Days > 1 && slices.Contains(metrics, "visitors") {
		// Visitors per value over several days: from the raw events, never
		// the sum of the days' counts.
		raw, err := h.st.VisitorsByValue(r.Context(), store.ValueVisitorQuery{SiteID: site.ID, Dimension: prop, From: sp.From, To: sp.To})
		if err != nil {
			return err
		}
		for v, s := range byValue {
			s.visitors = raw[v]
		}
	}
	first := metrics[0]
	sort.Slice(values, func(i, j int) bool {
		a, b := toFloat(byValue[values[i]].value(first)), toFloat(byValue[values[j]].value(first))
		if a != b {
			return a > b
		}
		return values[i] < values[j]
	})
	total := len(values)
	lo := min((page-1)*limit, total)
	values = values[lo:min(lo+limit, total)]
	header := append([]string{prop}, metrics...)
	var records [][]string
	results := make([]map[string]any, 0, len(values))
	for _, v := range values {
		obj := map[string]any{prop: v}
		rec := []string{v}
		for _, m := range metrics {
			x := byValue[v].value(m)
			obj[m] = x
			rec = append(rec, fmt.Sprint(x))
		}
		results = append(results, obj)
		records = append(records, rec)
	}
	if wantCSV(r, q) {
		return writeCSV(w, "breakdown-"+prop, header, records)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"site": site.Domain, "property": prop, "page": page, "limit": limit, "total": total, "results": results,
	})
	return nil
}

// writeCSV answers a header row and records as a CSV attachment.
func writeCSV(w http.ResponseWriter, name string, header []string, records [][]string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, rec := range records {
		for i, f := range rec {
			rec[i] = csvSafe(f)
		}
	}
	if err := cw.WriteAll(records); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// csvSafe defuses a value a spreadsheet would run as a formula (a page path
// or referrer is visitor input).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
