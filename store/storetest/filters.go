package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/footfall/store"
)

// FilterBackend is what the filter suite exercises.
type FilterBackend interface {
	Backend
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
	VisitorsByValue(ctx context.Context, q store.ValueVisitorQuery) (map[string]uint64, error)
	VisitorsMatching(ctx context.Context, q store.MatchVisitorQuery) (uint64, error)
}

// filterCase is one FilteredBreakdown call over the rollup fixture.
type filterCase struct {
	name    string
	dim     string
	filters []store.Filter
	buckets string // "" (one window), "day", "hour" or "uneven"
	// empty: the filters match no visit, so the answer has no rows.
	empty bool
}

// filterCases are the suite's queries. Every case but the empty ones must
// match some visits of the fixture, which the suite checks of its own
// expectations, so no case passes by matching nothing on both sides.
var filterCases = []filterCase{
	{name: "SessionAndEventDimension", dim: store.DimTotal, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "==", Value: "DE"}, {Dim: store.DimPage, Op: "==", Value: "/pricing"}}},
	{name: "ThreeFilters", dim: store.DimBrowser, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "!=", Value: "FR"}, {Dim: store.DimDevice, Op: "!=", Value: "mobile"},
		{Dim: store.DimPage, Op: "~", Value: "BLOG"}}},
	{name: "NotEqualAndContains", dim: store.DimTotal, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "!=", Value: "US"}, {Dim: store.DimEventName, Op: "~", Value: "Sign"}}},
	{name: "NotEqualEventDimension", dim: store.DimEntryPage, filters: []store.Filter{
		{Dim: store.DimEventName, Op: "!=", Value: "download"}, {Dim: store.DimSource, Op: "!=", Value: ""}}},
	{name: "VisitorsNotEqualPage", dim: store.DimTotal, filters: []store.Filter{
		{Dim: store.DimPage, Op: "!=", Value: "/docs"}}},
	{name: "VisitorsContainsReferrer", dim: store.DimTotal, filters: []store.Filter{
		{Dim: store.DimReferrerHost, Op: "~", Value: "EXAMPLE"}}},
	{name: "SameDimensionTwice", dim: store.DimCountry, filters: []store.Filter{
		{Dim: store.DimPage, Op: "==", Value: "/"}, {Dim: store.DimPage, Op: "==", Value: "/signup"}}},
	{name: "BreakdownOfFilteredDimension", dim: store.DimPage, filters: []store.Filter{
		{Dim: store.DimPage, Op: "~", Value: "blog"}, {Dim: store.DimCountry, Op: "==", Value: "DE"}}},
	{name: "BreakdownOfFilteredSessionDimension", dim: store.DimCountry, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "!=", Value: "DE"}, {Dim: store.DimEventTarget, Op: "~", Value: "pdf"}}},
	{name: "EventDimensionsOnly", dim: store.DimPage, filters: []store.Filter{
		{Dim: store.DimEventName, Op: "~", Value: "sign"}, {Dim: store.DimPage, Op: "!=", Value: "/docs"}}},
	{name: "SessionDimensionsOnly", dim: store.DimDevice, buckets: "day", filters: []store.Filter{
		{Dim: store.DimSource, Op: "!=", Value: "direct"}, {Dim: store.DimBrowser, Op: "~", Value: "fire"}}},
	{name: "MatchesNothing", dim: store.DimTotal, empty: true, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "==", Value: "ZZ"}, {Dim: store.DimPage, Op: "==", Value: "/pricing"}}},
	{name: "ContradictionMatchesNothing", dim: store.DimPage, empty: true, filters: []store.Filter{
		{Dim: store.DimCountry, Op: "==", Value: "DE"}, {Dim: store.DimCountry, Op: "!=", Value: "DE"}}},
	{name: "DailyBuckets", dim: store.DimTotal, buckets: "day", filters: []store.Filter{
		{Dim: store.DimCountry, Op: "==", Value: "DE"}, {Dim: store.DimPage, Op: "~", Value: "blog"}}},
	{name: "HourlyBuckets", dim: store.DimTotal, buckets: "hour", filters: []store.Filter{
		{Dim: store.DimDevice, Op: "!=", Value: "tablet"}, {Dim: store.DimEventName, Op: "!=", Value: "cta"}}},
	{name: "UnevenBucketsByDevice", dim: store.DimDevice, buckets: "uneven", filters: []store.Filter{
		{Dim: store.DimCountry, Op: "!=", Value: "FR"}, {Dim: store.DimPage, Op: "==", Value: "/docs"}}},
}

// RunFilters checks FilteredBreakdown against answers computed here from
// the rollup fixture's events: visits are sessionised in Go (by session
// id, else by store.SessionTimeout of inactivity, cut at window edges; bots
// and e-mail events are in no visit) and filtered by the rules store.Filter
// documents.
func RunFilters(t *testing.T, open func(t *testing.T) FilterBackend) {
	b := open(t)
	f := LoadRollupFixture(t)
	site := addSite(t, b).ID
	SeedRollupFixture(t, b, f, site)
	from, to := fixtureStart, fixtureStart.Add(48*time.Hour)
	for _, c := range filterCases {
		t.Run(c.name, func(t *testing.T) {
			q := store.FilteredBreakdownQuery{SiteID: site, Dimension: c.dim, Filters: c.filters, From: from, To: to, Buckets: fixtureBuckets(c.buckets, from, to)}
			want := ExpectFiltered(f.Events, q)
			if c.empty != (len(want) == 0) {
				t.Fatalf("the case expects empty=%v, but the reference model found %d rows; fix the case", c.empty, len(want))
			}
			got, err := b.FilteredBreakdown(context.Background(), q)
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			sortRollups(got)
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FilteredBreakdown(%v by %q) (-want +got):\n%s", c.filters, c.dim, diff)
			}
		})
	}
	// Visitors per value, the other raw-event answer, by the same model
	// with no filter: every dimension, over ranges that cut visits.
	for _, r := range []struct {
		name     string
		from, to time.Time
	}{{"TwoDays", from, to}, {"OneDay", from, from.Add(24 * time.Hour)}, {"Offset", from.Add(5 * time.Hour), from.Add(31 * time.Hour)}} {
		t.Run("VisitorsByValue/"+r.name, func(t *testing.T) {
			for _, dim := range append(slices.Clone(store.RollupDimensions[1:]), store.DimCity) {
				want := map[string]uint64{}
				for _, row := range ExpectFiltered(f.Events, store.FilteredBreakdownQuery{SiteID: site, Dimension: dim, From: r.from, To: r.to}) {
					want[row.Value] = row.Visitors
				}
				got, err := b.VisitorsByValue(context.Background(), store.ValueVisitorQuery{SiteID: site, Dimension: dim, From: r.from, To: r.to})
				if err != nil {
					t.Fatalf("VisitorsByValue(%s): %v", dim, err)
				}
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("VisitorsByValue(%s) (-want +got):\n%s", dim, diff)
				}
			}
		})
	}
	// Visitors of one filter on a session dimension, every operator, for
	// the most common value of each dimension and a fragment of it.
	t.Run("VisitorsMatching", func(t *testing.T) {
		from, to := from.Add(5*time.Hour), to
		for _, dim := range []string{store.DimEntryPage, store.DimExitPage, store.DimSource, store.DimReferrerHost, store.DimCountry, store.DimDevice, store.DimBrowser} {
			rows := slices.DeleteFunc(ExpectFiltered(f.Events, store.FilteredBreakdownQuery{SiteID: site, Dimension: dim, From: from, To: to}),
				func(r store.RollupRow) bool { return r.Value == "" })
			if len(rows) < 2 {
				t.Fatalf("the fixture has %d values of %s in the range; want several", len(rows), dim)
			}
			top := slices.MaxFunc(rows, func(a, b store.RollupRow) int { return cmp.Compare(a.Visitors, b.Visitors) }).Value
			for _, flt := range []store.Filter{{Dim: dim, Op: "==", Value: top}, {Dim: dim, Op: "!=", Value: top},
				{Dim: dim, Op: "~", Value: strings.ToUpper(top[:max(1, len(top)/2)])}, {Dim: dim, Op: "==", Value: "no such value"}} {
				var want uint64
				for _, r := range ExpectFiltered(f.Events, store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimTotal, Filters: []store.Filter{flt}, From: from, To: to}) {
					want += r.Visitors
				}
				got, err := b.VisitorsMatching(context.Background(), store.MatchVisitorQuery{SiteID: site, Filter: flt, From: from, To: to})
				if err != nil {
					t.Fatalf("VisitorsMatching(%v): %v", flt, err)
				}
				if got != want {
					t.Errorf("VisitorsMatching(%v) = %d, want %d", flt, got, want)
				}
			}
		}
		for _, flt := range []store.Filter{{Dim: store.DimPage, Op: "==", Value: "/"}, {Dim: store.DimCountry, Op: "<>", Value: "DE"}} {
			if _, err := b.VisitorsMatching(context.Background(), store.MatchVisitorQuery{SiteID: site, Filter: flt, From: from, To: to}); err == nil {
				t.Errorf("VisitorsMatching(%v) = nil error, want one", flt)
			}
		}
	})
	t.Run("RefusesBadQueries", func(t *testing.T) {
		for _, q := range []store.FilteredBreakdownQuery{
			{SiteID: site, From: from, To: to},
			{SiteID: site, From: from, To: to, Filters: []store.Filter{{Dim: "nope", Op: "==", Value: "x"}}},
			{SiteID: site, From: from, To: to, Filters: []store.Filter{{Dim: store.DimPage, Op: "<>", Value: "x"}}},
			{SiteID: site, From: from, To: to, Filters: make([]store.Filter, store.MaxFilters+1)},
			{SiteID: site, From: from, To: to, Filters: []store.Filter{{Dim: store.DimPage, Op: "==", Value: "/"}}, Buckets: []time.Time{to}},
		} {
			if _, err := b.FilteredBreakdown(context.Background(), q); err == nil {
				t.Errorf("FilteredBreakdown(%+v) = nil error, want one", q)
			}
		}
	})
}

// fixtureBuckets are the bucket starts of a case.
func fixtureBuckets(kind string, from, to time.Time) []time.Time {
	var step time.Duration
	switch kind {
	case "":
		return nil
	case "uneven":
		return []time.Time{from, from.Add(5 * time.Hour), from.Add(30 * time.Hour), from.Add(31 * time.Hour)}
	case "day":
		step = 24 * time.Hour
	case "hour":
		step = time.Hour
	default:
		panic("no bucket kind " + kind)
	}
	var out []time.Time
	for t := from; t.Before(to); t = t.Add(step) {
		out = append(out, t)
	}
	return out
}

// ExpectFiltered answers q from events by the rules store.Filter documents,
// independently of the stores: the reference the suite and the reports
// tests compare with.
func ExpectFiltered(events []store.Event, q store.FilteredBreakdownQuery) []store.RollupRow {
	var kept []visitPart
	for _, p := range sessionise(events, q.From, q.To, q.Windows()) {
		if visitMatches(p, q.Filters) {
			kept = append(kept, p)
		}
	}
	return sumCells(kept, []string{q.Dimension}, func(k cellKey) store.RollupRow {
		return store.RollupRow{SiteID: q.SiteID, WindowStart: k.win, Dimension: k.dim, Value: k.value}
	})
}

// sessionise cuts the events of [from, to) into visit parts by the
// aggregator's rules, independently of the stores: per window and (visitor
// key, session id), events in order (time, then pageview first), split by
// store.SessionTimeout of inactivity when there is no session id. Bots and
// e-mail events are in no visit. Each part's visit number is unique.
func sessionise(events []store.Event, from, to time.Time, windows []store.Window) []visitPart {
	type group struct {
		win       time.Time
		key, sess uint64
	}
	byGroup := map[group][]store.Event{}
	var order []group
	for _, e := range events {
		if e.Bot || isEmail(e.Type) || e.Time.Before(from) || !e.Time.Before(to) {
			continue
		}
		i := slices.IndexFunc(windows, func(w store.Window) bool { return !e.Time.Before(w.Start) && e.Time.Before(w.End) })
		g := group{windows[i].Start, e.VisitorKey, e.SessionID}
		if byGroup[g] == nil {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], e)
	}
	var parts []visitPart
	for _, g := range order {
		evs := byGroup[g]
		slices.SortStableFunc(evs, func(a, b store.Event) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(typeRank(a.Type), typeRank(b.Type)))
		})
		start := 0
		for i := range evs {
			if i == len(evs)-1 || g.sess == 0 && evs[i+1].Time.Sub(evs[i].Time) > store.SessionTimeout {
				parts = append(parts, visitPart{win: g.win, key: g.key, visit: len(parts), events: evs[start : i+1]})
				start = i + 1
			}
		}
	}
	return parts
}

// visitMatches applies the filters to a visit part as store.Filter
// documents.
func visitMatches(p visitPart, filters []store.Filter) bool {
	for _, f := range filters {
		var values []string
		if store.SessionDimension(f.Dim) {
			values = []string{sessionValue(f.Dim, p)}
		} else {
			for _, e := range p.events {
				if v, ok := eventValue(f.Dim, e); ok {
					values = append(values, v)
				}
			}
		}
		var ok bool
		switch f.Op {
		case "==":
			ok = slices.Contains(values, f.Value)
		case "!=":
			ok = !slices.Contains(values, f.Value)
		case "~":
			ok = slices.ContainsFunc(values, func(v string) bool {
				return strings.Contains(strings.ToLower(v), strings.ToLower(f.Value))
			})
		default:
			panic(fmt.Sprintf("no operator %q", f.Op))
		}
		if !ok {
			return false
		}
	}
	return true
}
