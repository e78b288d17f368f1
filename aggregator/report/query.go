package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/store"
)

// Kind is a report's shape.
type Kind string

// The report kinds.
const (
	Aggregate  Kind = "aggregate"
	Timeseries Kind = "timeseries"
	Breakdown  Kind = "breakdown"
	Funnel     Kind = "funnel"
)

// Metrics are the metric names, in their canonical order.
var Metrics = []string{"visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration", "engaged_time", "conversion_rate", "scroll_depth"}

// Periods are the period names.
var Periods = []string{"day", "7d", "30d", "month", "12mo", "custom"}

// Intervals are the timeseries interval names.
var Intervals = []string{"hour", "day", "week", "month"}

// MaxLimit caps a breakdown page.
const MaxLimit = 1000

// InputError is a question asked wrongly: its message says what to change.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Span is a reporting range: [From, To) as instants, the days it covers in
// the site's zone Loc, and the period it was asked as.
type Span struct {
	From, To time.Time
	Days     int
	Loc      *time.Location
	Period   string
}

// Query is one report asked for: its kind, site, period, metrics and
// filters, and the settings of its kind.
type Query struct {
	Kind    Kind
	Site    store.Site
	Span    Span
	Metrics []string
	Filters []store.Filter
	// Compare adds the previous period of the same length (aggregate).
	Compare bool
	// Interval is the timeseries' point: hour, day, week or month.
	Interval string
	// Property is the breakdown's dimension; Limit and Page its page.
	Property    string
	Limit, Page int
	// Goals are the site's goals (config: sites[].goals), which the goal
	// dimension reports; the caller sets them.
	Goals []store.Goal
	// Funnel names the funnel a funnel report reads, one of Funnels, the
	// site's funnels (config: sites[].funnels), which the caller sets.
	Funnel  string
	Funnels []store.Funnel
}

// Params lists the parameters ParseQuery reads for each kind, besides
// site and format, which the caller reads.
var Params = map[Kind][]string{
	Aggregate:  {"period", "date", "from", "to", "metrics", "filters", "compare"},
	Timeseries: {"period", "date", "from", "to", "metrics", "filters", "interval"},
	Breakdown:  {"period", "date", "from", "to", "metrics", "filters", "property", "limit", "page"},
	Funnel:     {"period", "date", "from", "to", "filters", "funnel"},
}

// ParseQuery reads a report's parameters, by the stats API's names and
// rules (docs/reports.md), for site in its zone loc; now anchors the
// period. Unset parameters are "" in p.
func ParseQuery(kind Kind, p map[string]string, site store.Site, loc *time.Location, now time.Time) (Query, error) {
	sp, err := ParseSpan(p, loc, now)
	if err != nil {
		return Query{}, err
	}
	metrics, err := ParseMetrics(p["metrics"])
	if err != nil {
		return Query{}, err
	}
	goalBreakdown := kind == Breakdown && p["property"] == store.DimGoal
	if p["metrics"] == "" && goalBreakdown {
		metrics = []string{"visitors", "visits", "conversion_rate"}
	}
	if slices.Contains(metrics, "conversion_rate") && !goalBreakdown {
		return Query{}, inputErrorf("conversion_rate goes only with property=goal")
	}
	if slices.Contains(metrics, "scroll_depth") && (kind != Breakdown || p["property"] != store.DimPage) {
		return Query{}, inputErrorf("scroll_depth goes only with property=page")
	}
	filters, err := ParseFilters(p["filters"])
	if err != nil {
		return Query{}, err
	}
	q := Query{Kind: kind, Site: site, Span: sp, Metrics: metrics, Filters: filters}
	switch kind {
	case Aggregate:
		switch c := p["compare"]; c {
		case "":
		case "previous_period":
			q.Compare = true
		default:
			return Query{}, inputErrorf("unknown compare %q; want previous_period", c)
		}
		err = checkEmailFilters(filters, "")
	case Timeseries:
		q.Interval, err = parseInterval(p["interval"], sp)
		if err == nil {
			err = checkEmailFilters(filters, "")
		}
	case Breakdown:
		err = q.parseBreakdown(p)
	case Funnel:
		q.Metrics, q.Funnel = FunnelMetrics, p["funnel"]
		if q.Funnel == "" {
			err = inputErrorf("funnel is required: the name of one of the site's funnels")
		} else {
			err = checkEmailFilters(filters, "")
		}
	default:
		return Query{}, fmt.Errorf("unknown report kind %q", kind)
	}
	if err != nil {
		return Query{}, err
	}
	return q, nil
}

func parseInterval(interval string, sp Span) (string, error) {
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
		return "", inputErrorf("unknown interval %q; want one of %s", interval, strings.Join(Intervals, ", "))
	}
	if len(buckets(sp, interval)) > 10000 {
		return "", inputErrorf("too many points; choose a longer interval")
	}
	return interval, nil
}

func (q *Query) parseBreakdown(p map[string]string) error {
	prop := p["property"]
	if !validDimension(prop) {
		return inputErrorf("property: want one of %s, got %q", strings.Join(dimensions(), ", "), prop)
	}
	q.Property, q.Limit, q.Page = prop, 100, 1
	var err error
	if s := p["limit"]; s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > MaxLimit {
			return inputErrorf("limit: want 1 to %d, got %q", MaxLimit, s)
		}
	}
	if s := p["page"]; s != "" {
		if q.Page, err = strconv.Atoi(s); err != nil || q.Page < 1 {
			return inputErrorf("page: want a positive number, got %q", s)
		}
	}
	if err := checkEmailFilters(q.Filters, prop); err != nil {
		return err
	}
	for _, m := range q.Metrics {
		if !store.SessionDimension(prop) && (m == "bounce_rate" || m == "visit_duration") {
			return inputErrorf("%s is not kept for %s (an event dimension)", m, prop)
		}
	}
	return nil
}

// ParseSpan reads period, date, from and to of p in the zone loc; now
// anchors the period when date is unset.
func ParseSpan(p map[string]string, loc *time.Location, now time.Time) (Span, error) {
	period := p["period"]
	if period == "" {
		period = "30d"
	}
	if !slices.Contains(Periods, period) {
		return Span{}, inputErrorf("unknown period %q; want one of %s", period, strings.Join(Periods, ", "))
	}
	now = now.In(loc)
	anchor := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if d := p["date"]; d != "" {
		var err error
		if anchor, err = time.ParseInLocation(time.DateOnly, d, loc); err != nil {
			return Span{}, inputErrorf("date: want YYYY-MM-DD, got %q", d)
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
		f, err1 := time.ParseInLocation(time.DateOnly, p["from"], loc)
		t, err2 := time.ParseInLocation(time.DateOnly, p["to"], loc)
		if err1 != nil || err2 != nil {
			return Span{}, inputErrorf("period=custom needs from and to as YYYY-MM-DD")
		}
		if t.Before(f) {
			return Span{}, inputErrorf("from is after to")
		}
		from, to = f, day(t, 1)
	}
	if period != "custom" && (p["from"] != "" || p["to"] != "") {
		return Span{}, inputErrorf("from and to need period=custom")
	}
	days := len(store.Windows(store.Daily, loc, from.UTC(), to.UTC()))
	if days > 3700 {
		return Span{}, inputErrorf("range too long")
	}
	return Span{From: from.UTC(), To: to.UTC(), Days: days, Loc: loc, Period: period}, nil
}

// ParseMetrics reads a comma-separated metric list; "" is visitors and
// pageviews.
func ParseMetrics(s string) ([]string, error) {
	if s == "" {
		return []string{"visitors", "pageviews"}, nil
	}
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(Metrics, m) {
			return nil, inputErrorf("unknown metric %q; want some of %s", m, strings.Join(Metrics, ", "))
		}
		if slices.Contains(out, m) {
			return nil, inputErrorf("metric %q listed twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// ParseFilters reads filters separated by ';' (dim==v, dim!=v, dim~v),
// combined with AND, at most store.MaxFilters.
func ParseFilters(s string) ([]store.Filter, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	if len(parts) > store.MaxFilters {
		return nil, inputErrorf("too many filters: %d, at most %d", len(parts), store.MaxFilters)
	}
	var out []store.Filter
	for _, part := range parts {
		var f store.Filter
		for _, op := range store.FilterOps {
			if d, v, ok := strings.Cut(part, op); ok {
				f = store.Filter{Dim: strings.TrimSpace(d), Op: op, Value: v}
				break
			}
		}
		if f.Op == "" || !validDimension(f.Dim) {
			return nil, inputErrorf("bad filter %q: want dimension==value, dimension!=value or dimension~value over %s", part, strings.Join(dimensions(), ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

// checkEmailFilters refuses filters on an e-mail dimension except as the
// only filter of a breakdown of that dimension (prop; "" for aggregate and
// timeseries): e-mail events belong to no visit, so such a filter selects
// none and other filters select none of them.
func checkEmailFilters(filters []store.Filter, prop string) error {
	for _, f := range filters {
		if store.EmailDimension(f.Dim) && (f.Dim != prop || len(filters) > 1) {
			return inputErrorf("a filter on %s (e-mail events, which belong to no visit) goes only alone, on a breakdown of %s", f.Dim, f.Dim)
		}
	}
	if store.EmailDimension(prop) && len(filters) > 0 && filters[0].Dim != prop {
		return inputErrorf("%s counts e-mail events, which belong to no visit; it takes no filters on other dimensions", prop)
	}
	return nil
}

// dimensions are the dimensions a report may name: the rollup dimensions
// (not the total) and the custom properties.
func dimensions() []string {
	return append(slices.Clone(store.RollupDimensions[1:]), store.DimProps, store.PropPrefix+"KEY", store.DimGoal)
}

func validDimension(d string) bool {
	switch d {
	case store.DimFunnel, store.DimGoalRevenue, store.DimScrollDepth:
		return false // only the funnel report, the goals' revenue (goals.go), the pages' scroll depth (scroll.go) read them
	}
	if store.RawOnlyDimension(d) {
		return true
	}
	return d != "" && slices.Contains(store.RollupDimensions, d)
}

// rawOnly reports whether the filters or dims name a custom property or
// the goals: no rollup answers those.
func rawOnly(filters []store.Filter, dims ...string) bool {
	return slices.ContainsFunc(allDims(filters, dims), store.RawOnlyDimension)
}

// visitOnly reports whether the visit rows answer every one of the
// filters' dimensions and dims (store.VisitDimension): no funnels, broken
// URLs or revenue, and the goals only when none has props
// (store.VisitGoals).
func visitOnly(filters []store.Filter, goals []store.GoalMatch, dims ...string) bool {
	return !slices.ContainsFunc(allDims(filters, dims), func(d string) bool {
		return !store.VisitDimension(d) && (d != store.DimGoal || !store.VisitGoals(goals))
	})
}

// props reports whether the filters or dims name a custom property, which
// visit rows keep since store.TouchedVersion 1.
func props(filters []store.Filter, dims ...string) bool {
	return slices.ContainsFunc(allDims(filters, dims), func(d string) bool {
		_, ok := store.PropDimension(d)
		return ok
	})
}

func allDims(filters []store.Filter, dims []string) []string {
	for _, f := range filters {
		dims = append(dims, f.Dim)
	}
	return dims
}
