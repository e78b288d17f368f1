package store

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
)

// The rollup dimensions. Totals have the empty dimension and value. Session
// dimensions describe a visit by its first event (or, for exit_page, its
// last); event dimensions count the events that carry the value. The e-mail
// dimensions count newsletter opens and clicks per campaign and link (value
// EmailValue); e-mail events belong to no visit and to no other dimension.
const (
	DimTotal        = ""
	DimPage         = "page"
	DimEntryPage    = "entry_page"
	DimExitPage     = "exit_page"
	DimReferrerHost = "referrer_host"
	DimSource       = "source"
	DimUTMSource    = "utm_source"
	DimUTMMedium    = "utm_medium"
	DimUTMCampaign  = "utm_campaign"
	DimUTMTerm      = "utm_term"
	DimUTMContent   = "utm_content"
	DimCountry      = "country"
	DimRegion       = "region"
	DimCity         = "city"
	DimDevice       = "device"
	DimBrowser      = "browser"
	DimOS           = "os"
	DimLanguage     = "language"
	DimEventName    = "event_name"
	DimEventTarget  = "event_target"
	DimEmailOpen    = "email_open"  // events: opens (the pixel /p/{token}.gif)
	DimEmailClick   = "email_click" // events: clicks (the redirect /r/{token})
)

// DimSpec is one dimension reports break counts down by. Adding a
// dimension is a row here (plus, for a new events column, the column in
// Event, a migration per backend and its place in the event codecs): the
// rollup lists, the stores' report columns and rollup SQL, partner
// validation and the dashboard's tabs are derived from this table.
type DimSpec struct {
	Name   string                // as the API, the rollup tables and partner configs name it
	Column string                // the events column holding the value; "" for the totals and e-mail dimensions
	Value  func(e *Event) string // the value of one event (a visit's first, or for Last its last)

	// Session dimensions describe a visit by its first event (Last: its
	// last); the others count every event that has a value.
	Session, Last bool

	Consent Categories // the category whose grant lets the collector keep the value
	Partner bool       // partners may receive it (anonymised aggregates)
	Rollup  bool       // the aggregator writes it to the rollup tables

	// The dashboard's tab: card title (none: no tab), tab label, column
	// heading and the metrics shown.
	Card, Label, Heading string
	Metrics              []string
}

var (
	visitMetrics   = []string{"visitors", "visits"}
	visitorMetrics = []string{"visitors"}
	// The top pages have their average scroll depth too (from the raw
	// events: docs/reports.md, Scroll depth).
	pageMetrics  = []string{"visitors", "pageviews", "scroll_depth"}
	eventMetrics = []string{"visitors", "events"}
)

// Dimensions is every dimension, totals first, in the order the rollups,
// partner configs and the dashboard list them. City is not rolled up: it is
// too fine for the analysts' tables and exists only for partners allowed it.
// Event targets are never shared (they are URLs that may carry identifiers).
var Dimensions = []DimSpec{
	{Name: DimTotal, Value: func(*Event) string { return "" }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true},
	{Name: DimPage, Column: "path", Value: func(e *Event) string { return e.Path }, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Pages", Label: "Top pages", Heading: "Page", Metrics: pageMetrics},
	{Name: DimEntryPage, Column: "path", Value: func(e *Event) string { return e.Path }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Pages", Label: "Entry pages", Heading: "Entry page", Metrics: visitMetrics},
	{Name: DimExitPage, Column: "path", Value: func(e *Event) string { return e.Path }, Session: true, Last: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Pages", Label: "Exit pages", Heading: "Exit page", Metrics: visitMetrics},
	{Name: DimReferrerHost, Column: "referrer_host", Value: func(e *Event) string { return e.ReferrerHost }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "Referrers", Heading: "Referrer", Metrics: visitMetrics},
	{Name: DimSource, Column: "source", Value: func(e *Event) string { return e.Source }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "Sources", Heading: "Source", Metrics: visitMetrics},
	{Name: DimUTMSource, Column: "utm_source", Value: func(e *Event) string { return e.UTMSource }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "UTM source", Heading: "utm_source", Metrics: visitMetrics},
	{Name: DimUTMMedium, Column: "utm_medium", Value: func(e *Event) string { return e.UTMMedium }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "UTM medium", Heading: "utm_medium", Metrics: visitMetrics},
	{Name: DimUTMCampaign, Column: "utm_campaign", Value: func(e *Event) string { return e.UTMCampaign }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "Campaigns", Heading: "utm_campaign", Metrics: visitMetrics},
	{Name: DimUTMTerm, Column: "utm_term", Value: func(e *Event) string { return e.UTMTerm }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "UTM term", Heading: "utm_term", Metrics: visitMetrics},
	{Name: DimUTMContent, Column: "utm_content", Value: func(e *Event) string { return e.UTMContent }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Sources", Label: "UTM content", Heading: "utm_content", Metrics: visitMetrics},
	{Name: DimCountry, Column: "country", Value: func(e *Event) string { return e.Country }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Locations", Label: "Countries", Heading: "Country", Metrics: visitorMetrics},
	{Name: DimRegion, Column: "region", Value: func(e *Event) string { return e.Region }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Locations", Label: "Regions", Heading: "Region", Metrics: visitorMetrics},
	{Name: DimCity, Column: "city", Value: func(e *Event) string { return e.City }, Session: true, Consent: ConsentAnalytics, Partner: true},
	{Name: DimDevice, Column: "device", Value: func(e *Event) string { return e.Device }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Devices", Label: "Devices", Heading: "Device", Metrics: visitorMetrics},
	{Name: DimBrowser, Column: "browser", Value: func(e *Event) string { return e.Browser }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Devices", Label: "Browsers", Heading: "Browser", Metrics: visitorMetrics},
	{Name: DimOS, Column: "os", Value: func(e *Event) string { return e.OS }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Devices", Label: "OS", Heading: "Operating system", Metrics: visitorMetrics},
	{Name: DimLanguage, Column: "language", Value: func(e *Event) string { return e.Language }, Session: true, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Devices", Label: "Languages", Heading: "Language", Metrics: visitorMetrics},
	{Name: DimEventName, Column: "name", Value: func(e *Event) string { return e.Name }, Consent: ConsentAnalytics, Partner: true, Rollup: true,
		Card: "Events", Label: "Events", Heading: "Event", Metrics: eventMetrics},
	{Name: DimEventTarget, Column: "target", Value: func(e *Event) string { return e.Target }, Consent: ConsentAnalytics, Rollup: true,
		Card: "Events", Label: "Clicked elements", Heading: "Element", Metrics: eventMetrics},
	{Name: DimEmailOpen, Value: func(e *Event) string { return EmailValue(e.UTMCampaign, e.UTMContent) }, Consent: ConsentMarketing, Rollup: true},
	{Name: DimEmailClick, Value: func(e *Event) string { return EmailValue(e.UTMCampaign, e.UTMContent) }, Consent: ConsentMarketing, Rollup: true},
}

// DimensionByName returns the row of a dimension.
func DimensionByName(name string) (DimSpec, bool) {
	for _, d := range Dimensions {
		if d.Name == name {
			return d, true
		}
	}
	return DimSpec{}, false
}

// RollupDimensions are the dimensions the aggregator writes to the rollup
// tables, totals first.
var RollupDimensions = dimensionNames(func(d DimSpec) bool { return d.Rollup })

// SessionDimensions are the session dimensions, totals first, whatever
// their Rollup: the stores' rollup SQL computes every one.
var SessionDimensions = dimensionNames(func(d DimSpec) bool { return d.Session })

func dimensionNames(keep func(DimSpec) bool) []string {
	var names []string
	for _, d := range Dimensions {
		if keep(d) {
			names = append(names, d.Name)
		}
	}
	return names
}

// Custom property dimensions, read from the visit rows (TouchedDimensions)
// or the raw events, never the rollups: DimProps has the property keys as values (a
// breakdown lists a site's keys); PropPrefix+KEY has the values of the
// key KEY ("props:plan"). Both are event dimensions: an event counts under
// each of its keys and under its value of each key.
const (
	DimProps   = "props"
	PropPrefix = "props:"
	// MaxPropKey is the longest property key, as the collector takes them.
	MaxPropKey = 64
)

// PropDimension reports whether dim is a custom property dimension
// (DimProps, or PropPrefix and a key of 1 to MaxPropKey bytes) and returns
// the key ("" for DimProps).
func PropDimension(dim string) (key string, ok bool) {
	if dim == DimProps {
		return "", true
	}
	key, ok = strings.CutPrefix(dim, PropPrefix)
	return key, ok && key != "" && len(key) <= MaxPropKey
}

// DimScrollDepth is the scroll depth of the pages, for the report planner
// only (no API names it; the metric scroll_depth of a pages breakdown
// reads it): an event dimension whose values are page paths. Its rows of
// FilteredBreakdown count, per value, the visits' page views with a
// scroll depth in Events (a page once per visit: the visit and page's
// engagement events reported one) and the sum of their deepest depths
// (store.Event.ScrollDepth, in %) in EngagedMS.
const DimScrollDepth = "scroll_depth"

// RawOnlyDimension reports whether dim is a custom property, the goals,
// the broken URLs, a funnel's steps or the scroll depth: event
// dimensions that no rollup keeps (of them, visit rows keep the custom
// properties: VisitDimension).
func RawOnlyDimension(dim string) bool {
	_, prop := PropDimension(dim)
	return prop || dim == DimGoal || dim == DimGoalRevenue || dim == DimNotFound || dim == DimFunnel || dim == DimScrollDepth
}

// SessionDimension reports whether dim describes visits (their first or last
// event) rather than single events.
func SessionDimension(dim string) bool {
	if RawOnlyDimension(dim) {
		return false
	}
	d, ok := DimensionByName(dim)
	return !ok || d.Session
}

// KnownDimension reports whether dim is one the stores can group by.
func KnownDimension(dim string) bool {
	_, ok := DimensionByName(dim)
	return ok
}

// EmailDimension reports whether dim counts newsletter opens or clicks. Its
// rows have events only: e-mail events carry no visitor key and make no
// visit, so visitors, visits, pageviews, bounces, duration and engaged time
// are zero.
func EmailDimension(dim string) bool { return dim == DimEmailOpen || dim == DimEmailClick }

// sqlDimensions is what the stores' SQL files range over in their [[ ]]
// template actions (ExpandDimensions): the session dimensions but the totals, and
// the distinct events columns they read.
var sqlDimensions = func() (v struct {
	Session []DimSpec
	Columns []string
}) {
	for _, d := range Dimensions {
		if !d.Session || d.Name == DimTotal {
			continue
		}
		v.Session = append(v.Session, d)
		if !slices.Contains(v.Columns, d.Column) {
			v.Columns = append(v.Columns, d.Column)
		}
	}
	return v
}()

// ExpandDimensions expands the template actions (delimited by double square brackets) of a store's SQL file
// from Dimensions (.Session: the session dimensions but the totals, each
// with .Name, .Column and .Last; .Columns: the distinct events columns they
// read), so that the rollup SQL lists every dimension without a list kept by
// hand. The names and columns are constants of this package, never input.
// SQL without "[[" is returned as it is.
func ExpandDimensions(name, sql string) (string, error) {
	if !strings.Contains(sql, "[[") {
		return sql, nil
	}
	t, err := template.New(name).Delims("[[", "]]").Parse(sql)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, sqlDimensions); err != nil {
		return "", fmt.Errorf("query %s: %w", name, err)
	}
	return b.String(), nil
}
