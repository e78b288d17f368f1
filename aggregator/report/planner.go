package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/footfall/footfall/store"
)

// Store is what the planner reads; both backends satisfy it.
type Store interface {
	Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error)
	DistinctVisitors(ctx context.Context, q store.VisitorQuery) (uint64, error)
	VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error)
	VisitorsMatching(ctx context.Context, q store.MatchVisitorQuery) (uint64, error)
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
	PageviewCounts(ctx context.Context, q store.CountQuery) ([]store.Count, error)
	VisitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error)
	WindowsMissing(ctx context.Context, q store.RollupQuery) (store.MissingWindows, error)
	HasRevenue(ctx context.Context, q store.VisitorQuery) (bool, error)
	SketchVisitors(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error)
}

// Sampler is a Store that can read a sample of the visit rows
// (store.VisitQuery.Sample) and count a period's raw events from its
// rollups: the ClickHouse store. The planner samples only such a store,
// and only with WithSampling; SQLite never samples.
type Sampler interface {
	// RawEvents is the pageviews and events the rollups of q count.
	RawEvents(ctx context.Context, q store.RollupQuery) (uint64, error)
}

// MaxSample bounds the sampling rate: a period is never read from fewer
// than one visitor in MaxSample.
const MaxSample = 100

// Planner answers queries from a Store.
type Planner struct {
	st  Store
	now func() time.Time
	// sampleAbove (WithSampling) is the number of raw events in a
	// period above which its visit rows are read from a sample; 0 never.
	sampleAbove uint64
	// rates remembers, within one Run, the sampling rate of each range,
	// and sampled the highest rate a figure of the answer was read at.
	rates   map[windowRange]uint32
	sampled uint32
	// missing remembers, within one Run (each Run has its own copy of
	// the Planner), what each range's windows lack: a report asks about
	// a range more than once (visit rows and sketches, a comparison's
	// periods, then their visitors), and each answer is a store query.
	missing map[windowRange]store.MissingWindows
}

// windowRange is a range of windows of one granularity.
type windowRange struct {
	g        store.Granularity
	from, to int64
}

// New returns a Planner reading st; now (nil: time.Now) tells which point
// holds the present, and so is partial.
func New(st Store, now func() time.Time) *Planner {
	if now == nil {
		now = time.Now
	}
	return &Planner{st: st, now: now}
}

// WithSampling returns a copy of pl that reads the visit rows of a
// period from a sample when the period has more than above raw events
// (counted by the rollups; 0: never), on a store that samples (Sampler).
// The rate is 1/N with N = ⌈events / above⌉ (at most MaxSample), so a
// sampled read covers about above events; the figures read from visit
// rows are scaled by N and the Result says so (Result.Sampled).
func (pl *Planner) WithSampling(above uint64) *Planner {
	c := *pl
	c.sampleAbove = above
	return &c
}

// Run answers q.
func (pl *Planner) Run(ctx context.Context, q Query) (*Result, error) {
	pl = &Planner{st: pl.st, now: pl.now, missing: map[windowRange]store.MissingWindows{}, sampleAbove: pl.sampleAbove, rates: map[windowRange]uint32{}}
	res, err := pl.run(ctx, q)
	if err != nil {
		return nil, err
	}
	if pl.sampled > 1 {
		res.Sampled = pl.sampled
	}
	return res, nil
}

func (pl *Planner) run(ctx context.Context, q Query) (*Result, error) {
	goals, err := pl.goalMatches(ctx, q)
	if err != nil {
		return nil, err
	}
	switch q.Kind {
	case Aggregate:
		return pl.aggregate(ctx, q, goals)
	case Timeseries:
		return pl.timeseries(ctx, q, goals)
	case Breakdown:
		return pl.breakdown(ctx, q, goals)
	case Funnel:
		return pl.funnel(ctx, q, goals)
	}
	return nil, fmt.Errorf("unknown report kind %q", q.Kind)
}

// sampleRate is N of the sample [from, to)'s visit rows are read from
// (1: all of them): see WithSampling.
func (pl *Planner) sampleRate(ctx context.Context, siteID uint32, from, to time.Time) (uint32, error) {
	sm, ok := pl.st.(Sampler)
	if pl.sampleAbove == 0 || !ok {
		return 1, nil
	}
	key := windowRange{g: store.Daily, from: from.Unix(), to: to.Unix()}
	if n, known := pl.rates[key]; known {
		return n, nil
	}
	events, err := sm.RawEvents(ctx, store.RollupQuery{SiteID: siteID, Granularity: store.Daily, From: from, To: to})
	if err != nil {
		return 0, err
	}
	n := uint32(1)
	if events > pl.sampleAbove {
		n = uint32(min((events+pl.sampleAbove-1)/pl.sampleAbove, MaxSample))
	}
	if pl.rates != nil {
		pl.rates[key] = n
	}
	return n, nil
}

// visitBreakdown is the store's VisitBreakdown of q, read from a sample
// where the period is over the sampling threshold (sampleRate) and then
// scaled: every count and sum times N, so rates and averages are the
// sample's. A visitor is in the sample or not as a whole (by visitor key),
// so distinct visitors scale like the rest.
func (pl *Planner) visitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	n, err := pl.sampleRate(ctx, q.SiteID, q.From, q.To)
	if err != nil {
		return nil, err
	}
	if n > 1 {
		q.Sample = n
	}
	rows, err := pl.st.VisitBreakdown(ctx, q)
	if err != nil || n <= 1 {
		return rows, err
	}
	pl.sampled = max(pl.sampled, n)
	f := uint64(n)
	for i := range rows {
		r := &rows[i]
		r.Visitors, r.Visits, r.Pageviews, r.Events = r.Visitors*f, r.Visits*f, r.Pageviews*f, r.Events*f
		r.Bounces, r.DurationSec, r.EngagedMS = r.Bounces*f, r.DurationSec*f, r.EngagedMS*f
	}
	return rows, nil
}

func match(f store.Filter, v string) bool {
	switch f.Op {
	case "==":
		return v == f.Value
	case "!=":
		return v != f.Value
	default:
		return strings.Contains(strings.ToLower(v), strings.ToLower(f.Value))
	}
}

// matchesAll reports whether a row's value passes every filter on the
// row's dimension: a breakdown of a filtered property lists only the
// values the filters allow.
func matchesAll(filters []store.Filter, r store.RollupRow) bool {
	for _, f := range filters {
		if f.Dim == r.Dimension && !match(f, r.Value) {
			return false
		}
	}
	return true
}

// sums is rollup rows added up.
type sums struct {
	visitors                                                 uint64
	visits, pageviews, events, bounces, durationS, engagedMS uint64
	partial                                                  bool
	// estimate: visitors were estimated from sketches (store/sketches.go).
	estimate bool
	// of is the visitors conversion_rate is a share of (goals).
	of uint64
	// scrollSum and scrolled: the deepest scroll depths (in %) of the page
	// views with one, and their number (scroll.go).
	scrollSum, scrolled uint64
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
	case "conversion_rate":
		return conversionRate(s.visitors, s.of)
	case "scroll_depth":
		return scrollDepth(s.scrollSum, s.scrolled)
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
	f   *store.Filter
}

func (sel selection) takes(r store.RollupRow) bool {
	if r.Dimension != sel.dim {
		return false
	}
	return sel.f == nil || match(*sel.f, r.Value)
}

// plan is how an aggregate or a timeseries answers: which metrics the
// rollup rows of sel give, and which the raw events give (rawMetrics, all
// of them when rollups is false).
type plan struct {
	sel        selection
	rollups    bool     // the rollups answer some metrics
	rawMetrics []string // metrics read from the raw events (FilteredBreakdown)
	filters    []store.Filter
	goals      []store.GoalMatch
}

// planFor decides, per metric, whether the rollups answer it exactly (see
// the package comment). Visitors are the callers' to complete: the rows
// of sel give them for one window and "==" only (visitorsExact); otherwise
// an aggregate counts them with rangeVisitors, a timeseries from the raw
// events.
func planFor(filters []store.Filter, goals []store.GoalMatch, metrics []string) plan {
	if len(filters) == 0 {
		return plan{sel: selection{dim: store.DimTotal}, rollups: true}
	}
	f := filters[0]
	p := plan{sel: selection{dim: f.Dim, f: &f}, rollups: true, filters: filters, goals: goals}
	event := !store.SessionDimension(f.Dim)
	if len(filters) > 1 || event && f.Op != "==" || rawOnly(filters) {
		// Several filters; or "visits with a page other than / containing
		// X", which rows per page cannot tell; or a custom property or a
		// goal, which no rollup keeps.
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

func (p point) row(key string, metrics []string) Row {
	r := Row{Key: key, Partial: p.partial(), Estimate: p.roll.estimate && slices.Contains(metrics, "visitors")}
	for _, m := range metrics {
		r.Values = append(r.Values, p.value(m))
	}
	return r
}

func (pl *Planner) rollups(ctx context.Context, siteID uint32, g store.Granularity, from, to time.Time) ([]store.RollupRow, error) {
	return pl.st.Rollups(ctx, store.RollupQuery{SiteID: siteID, Granularity: g, From: from, To: to})
}

// visitRows reports whether the visit rows of granularity g answer
// [from, to): the range is whole windows and every window of it that has
// rollups has visit rows too (windows aggregated before visit rows were
// kept have none until they are aggregated again; those ranges read the
// raw events), with props rows that keep the custom properties
// (store.TouchedVersion).
func (pl *Planner) visitRows(ctx context.Context, siteID uint32, g store.Granularity, from, to time.Time, props bool) (bool, error) {
	if g == store.Hourly && (from.Unix()%3600 != 0 || to.Unix()%3600 != 0) {
		return false, nil
	}
	m, err := pl.windowsMissing(ctx, siteID, g, from, to)
	if props {
		return !m.Values, err
	}
	return !m.Visits, err
}

// windowsMissing is what the windows of [from, to) lack, asked of the
// store once per range and Run.
func (pl *Planner) windowsMissing(ctx context.Context, siteID uint32, g store.Granularity, from, to time.Time) (store.MissingWindows, error) {
	key := windowRange{g, from.Unix(), to.Unix()}
	if m, known := pl.missing[key]; known {
		return m, nil
	}
	m, err := pl.st.WindowsMissing(ctx, store.RollupQuery{SiteID: siteID, Granularity: g, From: from, To: to})
	if err == nil && pl.missing != nil {
		pl.missing[key] = m
	}
	return m, err
}

// rawPoints answers the plan's remaining metrics for [from, to), one
// point per bucket (buckets: their starts; nil: one point), in one query:
// from the visit rows of granularity g (g's windows cut visits), or where
// they cannot answer from the raw events.
func (pl *Planner) rawPoints(ctx context.Context, siteID uint32, p plan, g store.Granularity, from, to time.Time, buckets []time.Time) ([]sums, error) {
	n := max(len(buckets), 1)
	out := make([]sums, n)
	if len(p.rawMetrics) == 0 {
		return out, nil
	}
	rows, err := pl.filtered(ctx, siteID, g, store.DimTotal, p.filters, p.goals, from, to, buckets)
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
	now := pl.now()
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

// filtered answers the metrics per bucket and value of dim over the visits
// of [from, to) that match every filter: from the visit rows of
// granularity g where they answer the range, else from the raw events
// (FilteredBreakdown, which takes each bucket as one window).
func (pl *Planner) filtered(ctx context.Context, siteID uint32, g store.Granularity, dim string, filters []store.Filter, goals []store.GoalMatch, from, to time.Time, buckets []time.Time) ([]store.RollupRow, error) {
	ok := visitOnly(filters, goals, dim)
	if ok {
		var err error
		if ok, err = pl.visitRows(ctx, siteID, g, from, to, props(filters, dim)); err != nil {
			return nil, err
		}
	}
	if ok {
		q := store.VisitQuery{SiteID: siteID, Granularity: g, Dimension: dim, Filters: filters, From: from, To: to, Buckets: buckets}
		if q.UsesGoals() {
			q.Goals = goals
		}
		return pl.visitBreakdown(ctx, q)
	}
	return pl.st.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{
		SiteID: siteID, Dimension: dim, Filters: filters, From: from, To: to, Buckets: buckets, Goals: goals,
	})
}

// totals answers the metrics of each period [bounds[i], bounds[i+1])
// (daily windows, days each; an aggregate and its previous period): the
// selected rollup rows added up, exact visitors from one window's row or
// from the visit rows (or the raw events), and what the rollups cannot
// answer from the visit rows (or the raw events). Each source is read
// once for all periods, its rows split by window start, so comparing
// periods costs one query per source, not one per period.
func (pl *Planner) totals(ctx context.Context, siteID uint32, filters []store.Filter, goals []store.GoalMatch, bounds []time.Time, days int, metrics []string) ([]point, error) {
	if len(bounds) > 2 {
		same, err := pl.sameSource(ctx, siteID, bounds, props(filters))
		if err != nil {
			return nil, err
		}
		if !same {
			// One period has visit rows, another not: each is read
			// alone, so a period's figures do not depend on whether it
			// is compared.
			var out []point
			for i := range len(bounds) - 1 {
				pt, err := pl.totals(ctx, siteID, filters, goals, bounds[i:i+2], days, metrics)
				if err != nil {
					return nil, err
				}
				out = append(out, pt[0])
			}
			return out, nil
		}
	}
	p := planFor(filters, goals, metrics)
	from, to, starts := bounds[0], bounds[len(bounds)-1], bounds[:len(bounds)-1]
	out := make([]point, len(starts))
	for i := range out {
		out[i].rawMetrics = p.rawMetrics
	}
	if p.rollups {
		rows, err := pl.rollups(ctx, siteID, store.Daily, from, to)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if i := periodOf(starts, r.WindowStart); i >= 0 && p.sel.takes(r) {
				out[i].roll.add(r)
			}
		}
		if p.needsVisitors(metrics, days > 1) {
			visitors, estimate, err := pl.rangeVisitors(ctx, siteID, p.sel, bounds)
			if err != nil {
				return nil, err
			}
			for i, v := range visitors {
				out[i].roll.visitors, out[i].roll.estimate = v, estimate[i]
			}
		}
	}
	var buckets []time.Time
	if len(starts) > 1 {
		buckets = starts
	}
	raw, err := pl.rawPoints(ctx, siteID, p, store.Daily, from, to, buckets)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].raw = raw[i]
	}
	return out, nil
}

// sameSource reports whether the visit rows answer all of the periods
// [bounds[i], bounds[i+1]) or none of them: one query when they answer
// the whole range, the usual case.
func (pl *Planner) sameSource(ctx context.Context, siteID uint32, bounds []time.Time, props bool) (bool, error) {
	if all, err := pl.visitRows(ctx, siteID, store.Daily, bounds[0], bounds[len(bounds)-1], props); err != nil || all {
		return all, err
	}
	for i := 0; i+1 < len(bounds); i++ {
		ok, err := pl.visitRows(ctx, siteID, store.Daily, bounds[i], bounds[i+1], props)
		if err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

// periodOf is the index of the period (starts ascending, the last one
// open-ended) that holds t, or -1 before the first.
func periodOf(starts []time.Time, t time.Time) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i].After(t) }) - 1
}

// rangeVisitors counts the distinct visitors of each period [bounds[i],
// bounds[i+1]): all of them, or those of the selection's filter; from the
// daily visit rows in one query. Where those cannot answer: all visitors
// of a range whose windows all have sketches (their visit rows were
// deleted with the raw events by retention) are estimated from the
// sketches (estimate[i] true); otherwise each period is read alone, from
// its sketches or the raw events.
func (pl *Planner) rangeVisitors(ctx context.Context, siteID uint32, sel selection, bounds []time.Time) ([]uint64, []bool, error) {
	from, to := bounds[0], bounds[len(bounds)-1]
	out := make([]uint64, len(bounds)-1)
	q := store.VisitQuery{SiteID: siteID, Granularity: store.Daily, Dimension: store.DimTotal, From: from, To: to}
	if len(out) > 1 {
		q.Buckets = bounds[:len(out)]
	}
	collect := func(rows []store.RollupRow) {
		for _, r := range rows {
			if i := periodOf(bounds[:len(out)], r.WindowStart); i >= 0 {
				out[i] += r.Visitors
			}
		}
	}
	ok, err := pl.visitRows(ctx, siteID, store.Daily, from, to, false)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		if sel.f != nil {
			q.Filters = []store.Filter{{Dim: sel.dim, Op: sel.f.Op, Value: sel.f.Value}}
		}
		rows, err := pl.visitBreakdown(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		collect(rows)
		return out, make([]bool, len(out)), nil
	}
	if sel.f == nil {
		if ok, err = pl.sketches(ctx, siteID, from, to); err != nil {
			return nil, nil, err
		}
		if ok {
			rows, err := pl.st.SketchVisitors(ctx, q)
			if err != nil {
				return nil, nil, err
			}
			collect(rows)
			est := make([]bool, len(out))
			for i := range est {
				est[i] = true
			}
			return out, est, nil
		}
	}
	if len(out) > 1 {
		// Periods of different sources (one past retention, one
		// aggregated before sketches were kept): each alone.
		est := make([]bool, len(out))
		for i := range out {
			v, e, err := pl.rangeVisitors(ctx, siteID, sel, bounds[i:i+2])
			if err != nil {
				return nil, nil, err
			}
			out[i], est[i] = v[0], e[0]
		}
		return out, est, nil
	}
	if out[0], err = pl.rawVisitors(ctx, siteID, sel, from, to); err != nil {
		return nil, nil, err
	}
	return out, make([]bool, 1), nil
}

// sketches reports whether every daily window of [from, to) that has
// rollups has a visitor sketch. Sketches are written with the visit rows,
// so where a range lacks visit rows but has every sketch, its visit rows
// (and raw events) were deleted by retention, and the sketches are what is
// left; a window without a sketch was aggregated before sketches were
// kept, when its raw events may still be there.
func (pl *Planner) sketches(ctx context.Context, siteID uint32, from, to time.Time) (bool, error) {
	m, err := pl.windowsMissing(ctx, siteID, store.Daily, from, to)
	return !m.Sketches, err
}

// rawVisitors counts the distinct visitors of [from, to) from the raw
// events: all of them, or those of the selection's filter.
func (pl *Planner) rawVisitors(ctx context.Context, siteID uint32, sel selection, from, to time.Time) (uint64, error) {
	if sel.f == nil {
		return pl.st.DistinctVisitors(ctx, store.VisitorQuery{SiteID: siteID, From: from, To: to})
	}
	if sel.f.Op != "==" {
		return pl.st.VisitorsMatching(ctx, store.MatchVisitorQuery{SiteID: siteID, From: from, To: to,
			Filter: store.Filter{Dim: sel.dim, Op: sel.f.Op, Value: sel.f.Value}})
	}
	byValue, err := pl.st.VisitorsByValue(ctx, store.ValueVisitorQuery{SiteID: siteID, Dimension: sel.dim, From: from, To: to})
	if err != nil {
		return 0, err
	}
	return byValue[sel.f.Value], nil
}

func (pl *Planner) aggregate(ctx context.Context, q Query, goals []store.GoalMatch) (*Result, error) {
	sp := q.Span
	bounds := []time.Time{sp.From, sp.To}
	if q.Compare {
		// The previous period of as many days in the site's zone, read
		// with the current one.
		local := sp.From.In(sp.Loc)
		pf := time.Date(local.Year(), local.Month(), local.Day()-sp.Days, 0, 0, 0, 0, sp.Loc).UTC()
		bounds = []time.Time{pf, sp.From, sp.To}
	}
	points, err := pl.totals(ctx, q.Site.ID, q.Filters, goals, bounds, sp.Days, q.Metrics)
	if err != nil {
		return nil, err
	}
	cur := points[len(points)-1]
	res := &Result{Query: q, Rows: []Row{cur.row("", q.Metrics)}}
	if q.Compare {
		p := points[0].row("", q.Metrics)
		res.Previous = &p
	}
	return res, nil
}

// bucket is one point of a timeseries: [start, end).
type bucket struct {
	start, end time.Time
	label      string
}

func buckets(sp Span, interval string) []bucket {
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

func (pl *Planner) timeseries(ctx context.Context, q Query, goals []store.GoalMatch) (*Result, error) {
	sp, metrics := q.Span, q.Metrics
	bs := buckets(sp, q.Interval)
	multi := q.Interval == "week" || q.Interval == "month"
	p := planFor(q.Filters, goals, metrics)
	if len(q.Filters) > 0 && p.needsVisitors(metrics, multi) {
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
		if q.Interval == "hour" {
			g = store.Hourly
		}
		rows, err := pl.rollups(ctx, q.Site.ID, g, sp.From, sp.To)
		if err != nil {
			return nil, err
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
			if err := pl.bucketVisitors(ctx, q.Site.ID, p.sel, bs, points); err != nil {
				return nil, err
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
	g := store.Daily
	if q.Interval == "hour" {
		g = store.Hourly
	}
	raw, err := pl.rawPoints(ctx, q.Site.ID, p, g, sp.From, sp.To, starts)
	if err != nil {
		return nil, err
	}
	res := &Result{Query: q, Rows: make([]Row, len(bs))}
	for i := range points {
		points[i].raw = raw[i]
		res.Rows[i] = points[i].row(bs[i].label, metrics)
	}
	return res, nil
}

// bucketVisitors sets the distinct visitors of each bucket (of whole
// days) in points: from the daily visit rows in one query, or where they
// cannot answer from the raw events, a query per bucket.
func (pl *Planner) bucketVisitors(ctx context.Context, siteID uint32, sel selection, bs []bucket, points []point) error {
	from, to := bs[0].start, bs[len(bs)-1].end
	ok, err := pl.visitRows(ctx, siteID, store.Daily, from, to, false)
	if err != nil {
		return err
	}
	if !ok {
		for i, b := range bs {
			v, estimate, err := pl.rangeVisitors(ctx, siteID, sel, []time.Time{b.start, b.end})
			if err != nil {
				return err
			}
			points[i].roll.visitors, points[i].roll.estimate = v[0], estimate[0]
		}
		return nil
	}
	q := store.VisitQuery{SiteID: siteID, Granularity: store.Daily, Dimension: store.DimTotal, From: from, To: to}
	for _, b := range bs {
		q.Buckets = append(q.Buckets, b.start)
	}
	if sel.f != nil {
		q.Filters = []store.Filter{{Dim: sel.dim, Op: sel.f.Op, Value: sel.f.Value}}
	}
	rows, err := pl.visitBreakdown(ctx, q)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if i := slices.IndexFunc(bs, func(b bucket) bool { return b.start.Equal(r.WindowStart) }); i >= 0 {
			points[i].roll.visitors = r.Visitors
		}
	}
	return nil
}

func (pl *Planner) breakdown(ctx context.Context, q Query, goals []store.GoalMatch) (*Result, error) {
	sp, metrics, filters, prop := q.Span, q.Metrics, q.Filters, q.Property
	// The rollups answer without filters or with one on the property
	// itself; other filters select visits from the raw events.
	sel := selection{dim: prop}
	raw := len(filters) > 1 || len(filters) == 1 && filters[0].Dim != prop || rawOnly(filters, prop)
	if len(filters) == 1 && !raw {
		sel.f = &filters[0]
	}
	var rows []store.RollupRow
	var err error
	if raw {
		rf := filters
		if len(rf) == 0 {
			// A custom property's values (or the goals) unfiltered:
			// the visits with any value of it, as the raw query wants a
			// filter.
			rf = []store.Filter{{Dim: prop, Op: "~", Value: ""}}
		}
		if prop == store.DimGoal && slices.Contains(metrics, "engaged_time") {
			// The visit rows keep no engaged time of a goal's own events.
			rows, err = pl.st.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{SiteID: q.Site.ID, Dimension: prop,
				Filters: rf, From: sp.From, To: sp.To, Goals: goals})
		} else {
			rows, err = pl.filtered(ctx, q.Site.ID, store.Daily, prop, rf, goals, sp.From, sp.To, nil)
		}
	} else {
		rows, err = pl.rollups(ctx, q.Site.ID, store.Daily, sp.From, sp.To)
	}
	if err != nil {
		return nil, err
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
		// Visitors per value over several days: distinct, never the sum
		// of the days' counts.
		visitors, err := pl.valueVisitors(ctx, q.Site.ID, prop, sp.From, sp.To)
		if err != nil {
			return nil, err
		}
		for v, s := range byValue {
			s.visitors = visitors[v]
		}
	}
	var revenue map[string][]Revenue
	if prop == store.DimGoal {
		if values, err = pl.conversions(ctx, q, goals, byValue, values); err != nil {
			return nil, err
		}
		if revenue, err = pl.goalRevenue(ctx, q, goals); err != nil {
			return nil, err
		}
	}
	if slices.Contains(metrics, "scroll_depth") {
		if err := pl.scrollDepths(ctx, q, goals, byValue); err != nil {
			return nil, err
		}
	}
	first := metrics[0]
	sort.Slice(values, func(i, j int) bool {
		a, b := Float(byValue[values[i]].value(first)), Float(byValue[values[j]].value(first))
		if a != b {
			return a > b
		}
		return values[i] < values[j]
	})
	res := &Result{Query: q, Total: len(values)}
	lo := min((q.Page-1)*q.Limit, len(values))
	for _, v := range values[lo:min(lo+q.Limit, len(values))] {
		r := Row{Key: v, Revenue: revenue[v]}
		for _, m := range metrics {
			r.Values = append(r.Values, byValue[v].value(m))
		}
		res.Rows = append(res.Rows, r)
	}
	return res, nil
}

// valueVisitors counts the distinct visitors of each value of dim over
// [from, to): from the daily visit rows, or where they cannot answer
// (and for the e-mail dimensions, which have no visitors) from the raw
// events.
func (pl *Planner) valueVisitors(ctx context.Context, siteID uint32, dim string, from, to time.Time) (map[string]uint64, error) {
	ok, err := pl.visitRows(ctx, siteID, store.Daily, from, to, false)
	if err != nil {
		return nil, err
	}
	if !ok || store.EmailDimension(dim) {
		return pl.st.VisitorsByValue(ctx, store.ValueVisitorQuery{SiteID: siteID, Dimension: dim, From: from, To: to})
	}
	rows, err := pl.visitBreakdown(ctx, store.VisitQuery{SiteID: siteID, Granularity: store.Daily, Dimension: dim, From: from, To: to})
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, len(rows))
	for _, r := range rows {
		out[r.Value] = r.Visitors
	}
	return out, nil
}

// Float is a metric's value (a uint64 count or a float64) as a float64.
func Float(v any) float64 {
	switch x := v.(type) {
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}
