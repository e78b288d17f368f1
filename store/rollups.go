package store

import (
	"fmt"
	"strings"
	"time"
)

// Granularity is the length of an aggregation window.
type Granularity string

// The window granularities. Hourly windows are UTC hours; daily windows are
// calendar days in the site's time zone (UTC unless configured).
const (
	Hourly Granularity = "hour"
	Daily  Granularity = "day"
)

// Valid reports whether g is a known granularity.
func (g Granularity) Valid() bool { return g == Hourly || g == Daily }

// Granularities lists every granularity, in the order the aggregator runs them.
var Granularities = []Granularity{Hourly, Daily}

// SessionTimeout ends a derived session: events of one visitor key without a
// session id belong to one visit until they are more than this far apart.
const SessionTimeout = 30 * time.Minute

// Window is one aggregation window [Start, End) of a site.
type Window struct {
	Start time.Time
	End   time.Time
}

// WindowStart returns the start of the window of granularity g that holds t.
// Daily windows start at local midnight in loc (nil means UTC); hourly
// windows are UTC hours whatever loc is.
func WindowStart(g Granularity, loc *time.Location, t time.Time) time.Time {
	if g == Hourly || loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	if g == Hourly {
		return t.Truncate(time.Hour).UTC()
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc).UTC()
}

// NextWindow returns the start of the window after the one starting at start.
func NextWindow(g Granularity, loc *time.Location, start time.Time) time.Time {
	if g == Hourly {
		return start.Add(time.Hour)
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := start.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC()
}

// Windows returns the windows of granularity g whose start lies in
// [from, to), from the window that holds from.
func Windows(g Granularity, loc *time.Location, from, to time.Time) []Window {
	var out []Window
	for s := WindowStart(g, loc, from); s.Before(to); {
		e := NextWindow(g, loc, s)
		out = append(out, Window{Start: s, End: e})
		s = e
	}
	return out
}

// LoadZone returns the location of an IANA time zone name; "" is UTC.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// EmailValue is the value of an e-mail dimension: the campaign, a slash and
// the link id ("spring/hero"; "spring/" for a link without an id). In the
// campaign, "%" is written "%25" and "/" is written "%2F", so the first
// slash always ends it; the link id is kept as it is. The stores compute
// the same in SQL.
func EmailValue(campaign, linkID string) string {
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(campaign) + "/" + linkID
}

// ParseEmailValue splits a value of an e-mail dimension into its campaign
// and link id.
func ParseEmailValue(v string) (campaign, linkID string, err error) {
	c, l, ok := strings.Cut(v, "/")
	if !ok {
		return "", "", fmt.Errorf("e-mail value %q: no slash", v)
	}
	var b strings.Builder
	for i := 0; i < len(c); i++ {
		switch {
		case c[i] != '%':
			b.WriteByte(c[i])
		case strings.HasPrefix(c[i:], "%25"):
			b.WriteByte('%')
			i += 2
		case strings.HasPrefix(c[i:], "%2F"):
			b.WriteByte('/')
			i += 2
		default:
			return "", "", fmt.Errorf("e-mail value %q: bad escape in the campaign", v)
		}
	}
	return b.String(), l, nil
}

// RollupSpec asks a store to (re)compute the rollups of the windows of one
// site whose start lies in [From, To). Results of those windows from earlier
// runs are replaced, never added to.
type RollupSpec struct {
	SiteID      uint32
	Granularity Granularity
	// TimeZone is the IANA zone of daily windows ("" for UTC).
	TimeZone string
	From     time.Time // a window start
	To       time.Time // a window start after From
	// Partial marks the results as covering a window that is still open.
	Partial bool
	// Version identifies the run; it is stored with every row written.
	Version uint64
}

// Validate checks the spec and returns its windows.
func (s RollupSpec) Validate() ([]Window, error) {
	if !s.Granularity.Valid() {
		return nil, fmt.Errorf("rollup spec: unknown granularity %q", s.Granularity)
	}
	loc, err := LoadZone(s.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("rollup spec: %w", err)
	}
	if !s.From.Before(s.To) {
		return nil, fmt.Errorf("rollup spec: empty range %s to %s", s.From, s.To)
	}
	if !WindowStart(s.Granularity, loc, s.From).Equal(s.From) || !WindowStart(s.Granularity, loc, s.To).Equal(s.To) {
		return nil, fmt.Errorf("rollup spec: %s to %s is not aligned to %s windows in %s", s.From, s.To, s.Granularity, loc)
	}
	return Windows(s.Granularity, loc, s.From, s.To), nil
}

// WindowCount is what one window of a rollup run read and wrote.
type WindowCount struct {
	Start       time.Time
	RowsRead    uint64 // raw events and consent records in the window
	RowsWritten uint64 // rollup and consent rollup rows
}

// RollupRow is one cell of the rollup table: the metrics of one dimension
// value in one window. Bounces and DurationSec are kept for session
// dimensions only (zero for page and event dimensions).
type RollupRow struct {
	SiteID      uint32
	Granularity Granularity
	WindowStart time.Time
	Dimension   string
	Value       string
	Visitors    uint64 // distinct visitor keys
	Visits      uint64 // distinct sessions
	Pageviews   uint64
	Events      uint64 // clicks and custom events; opens or clicks in the e-mail dimensions
	Bounces     uint64 // visits with one pageview and no other events
	DurationSec uint64 // sum over visits of last minus first event time
	EngagedMS   uint64 // sum of engaged time
	Partial     bool
}

// ConsentRollupRow counts the consent ledger's decisions in one window for
// one category (analytics, personalization, marketing).
type ConsentRollupRow struct {
	SiteID      uint32
	Granularity Granularity
	WindowStart time.Time
	Category    string
	Decisions   uint64 // records other than withdraw and expire
	Granted     uint64 // decisions granting the category
	Denied      uint64 // decisions not granting it
	Withdrawn   uint64 // withdrawals (every withdrawal revokes every category)
	GPC         uint64 // decisions made with Global Privacy Control on
	Partial     bool
}

// RollupQuery selects rollup rows of one site and granularity whose window
// starts in [From, To).
type RollupQuery struct {
	SiteID      uint32
	Granularity Granularity
	From        time.Time
	To          time.Time
}

// RunStatus is how a window's aggregation ended.
type RunStatus string

// The run statuses.
const (
	RunOK     RunStatus = "ok"
	RunFailed RunStatus = "failed"
)

// Run is one entry of the aggregation run log: one window of one run.
type Run struct {
	SiteID      uint32
	Granularity Granularity
	WindowStart time.Time
	WindowEnd   time.Time
	Version     uint64
	Started     time.Time
	Finished    time.Time
	RowsRead    uint64
	RowsWritten uint64
	Status      RunStatus
	Partial     bool
	Error       string
}

// RunQuery selects run log entries of one site and granularity whose window
// starts in [From, To).
type RunQuery struct {
	SiteID      uint32
	Granularity Granularity
	From        time.Time
	To          time.Time
}

// LateQuery asks which windows of one site, starting in [From, To), hold
// events received at or after the start of the window's last successful
// run: those results are stale and the window must be aggregated again.
// Windows that never ran successfully are not reported.
type LateQuery struct {
	SiteID      uint32
	Granularity Granularity
	TimeZone    string
	From        time.Time
	To          time.Time
}

// CellQuery asks for the per-day cells a partner release is built from: for
// each day (in TimeZone) of [From, To) and each dimension value, the
// visitors, visits, pageviews and events of the site, without bots and
// without any visitor key that had Global Privacy Control on in the range.
//
// Contributions are bounded when the bounds are positive: per dimension a
// visitor key counts in at most MaxCellsPerVisitor cells (those with its
// most pageviews, then the earliest day, then the smallest value), and in a
// cell with at most MaxVisits visits, MaxPageviews pageviews and MaxEvents
// events. TrueVisitors is always the unbounded distinct count.
//
// With Fold, every cell not in Keep (keys made by CellKey) is merged into
// one cell per day and dimension with the value OtherValue, counted
// distinctly (a visitor in several merged cells counts once).
type CellQuery struct {
	SiteID             uint32
	TimeZone           string
	From               time.Time
	To                 time.Time
	Dimensions         []string
	MaxCellsPerVisitor int
	MaxVisits          int
	MaxPageviews       int
	MaxEvents          int
	Fold               bool
	Keep               []string
}

// OtherValue is the value of the cell that suppressed cells fold into.
const OtherValue = "(other)"

// CellKey identifies a cell in CellQuery.Keep.
func CellKey(day time.Time, dimension, value string) string {
	return fmt.Sprintf("%d|%s|%s", day.Unix(), dimension, value)
}

// Cell is one day and dimension value of a CellQuery's answer.
type Cell struct {
	Day          time.Time // the day's start (local midnight, as an instant)
	Dimension    string
	Value        string
	TrueVisitors uint64 // distinct visitor keys, unbounded
	Visitors     uint64 // visitor keys counted after bounding
	Visits       uint64
	Pageviews    uint64
	Events       uint64
}
