package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// VisitBackend is what the visit suite exercises.
type VisitBackend interface {
	Backend
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
	ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error)
	Visits(ctx context.Context, q store.RollupQuery) ([]store.Visit, error)
	VisitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error)
	WindowsMissing(ctx context.Context, q store.RollupQuery) (store.MissingWindows, error)
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
	EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
}

// ExpectVisits are the visit rows of the windows of granularity g in loc
// within [from, to) (window starts), from events by the aggregator's rules
// (the reference model's sessionise), independently of the stores.
func ExpectVisits(events []store.Event, siteID uint32, g store.Granularity, loc *time.Location, from, to time.Time) []store.Visit {
	windows := store.Windows(g, loc, from, to)
	var out []store.Visit
	for _, p := range sessionise(events, from, to, windows) {
		s := statsOf(p.events)
		v := store.Visit{
			SiteID: siteID, Granularity: g, WindowStart: p.win, VisitorKey: p.key, SessionID: p.events[0].SessionID,
			Start: p.events[0].Time, Pageviews: s.pv, Events: s.ev, Bounce: s.bounce == 1, DurationSec: s.dur, EngagedMS: s.eng,
			Session: map[string]string{},
		}
		for _, d := range store.Dimensions {
			if d.Session && d.Name != store.DimTotal {
				v.Session[d.Name] = sessionValue(d.Name, p)
			}
		}
		byValue := map[[2]string]*store.VisitValue{}
		for _, d := range store.Dimensions {
			if d.Session || d.Column == "" {
				continue
			}
			for _, e := range p.events {
				val, ok := eventValue(d.Name, e)
				if !ok {
					continue
				}
				k := [2]string{d.Name, val}
				if byValue[k] == nil {
					byValue[k] = &store.VisitValue{Dimension: d.Name, Value: val}
				}
				es := statsOf([]store.Event{e})
				byValue[k].Pageviews += es.pv
				byValue[k].Events += es.ev
				byValue[k].EngagedMS += es.eng
			}
		}
		for _, e := range p.events {
			// The custom properties (store.TouchedDimensions).
			for _, pr := range e.Props {
				if pr.Value == "" {
					continue
				}
				es := statsOf([]store.Event{e})
				for _, k := range [][2]string{{store.DimProps, pr.Key}, {store.PropPrefix + pr.Key, pr.Value}} {
					if byValue[k] == nil {
						byValue[k] = &store.VisitValue{Dimension: k[0], Value: k[1]}
					}
					byValue[k].Pageviews += es.pv
					byValue[k].Events += es.ev
					byValue[k].EngagedMS += es.eng
				}
			}
		}
		for _, vv := range byValue {
			v.Values = append(v.Values, *vv)
		}
		out = append(out, v)
	}
	store.SortVisits(out)
	return out
}

// ExpectVisitBreakdown answers q from events as visit rows answer it: the
// visits of q's windows (granularity g in loc, cut at window edges) that
// match every filter, summed per bucket and value, visitors distinct per
// bucket and value.
func ExpectVisitBreakdown(events []store.Event, q store.VisitQuery, loc *time.Location) []store.RollupRow {
	starts := q.BucketStarts()
	var kept []visitPart
	for _, p := range sessionise(events, q.From, q.To, store.Windows(q.Granularity, loc, q.From, q.To)) {
		if !visitMatches(p, q.Filters) {
			continue
		}
		for i := len(starts) - 1; i >= 0; i-- {
			if !p.win.Before(starts[i]) {
				p.win = starts[i]
				break
			}
		}
		kept = append(kept, p)
	}
	return sumCells(kept, []string{q.Dimension}, func(k cellKey) store.RollupRow {
		return store.RollupRow{SiteID: q.SiteID, WindowStart: k.win, Dimension: k.dim, Value: k.value}
	})
}

// RunVisits runs the visit suite over the rollup fixture: the visit rows
// ReplaceRollups writes (known answers, on every granularity, replaced
// without doubles), filtered breakdowns read from them against the
// reference model, and their equality with the raw-event answers
// (FilteredBreakdown) wherever both cut visits at the same edges.
func RunVisits(t *testing.T, open func(t *testing.T) VisitBackend) {
	ctx := context.Background()
	b := open(t)
	f := LoadRollupFixture(t)
	site := addSite(t, b).ID
	SeedRollupFixture(t, b, f, site)
	ny, err := time.LoadLocation(fixtureZone)
	if err != nil {
		t.Fatal(err)
	}
	from, to := fixtureStart, fixtureStart.Add(48*time.Hour)
	nyFrom := store.WindowStart(store.Daily, ny, from)
	nyTo := store.NextWindow(store.Daily, ny, store.WindowStart(store.Daily, ny, to))
	specs := []struct {
		name     string
		g        store.Granularity
		zone     string
		loc      *time.Location
		from, to time.Time
	}{
		{"hourly", store.Hourly, "", time.UTC, from, to},
		{"daily", store.Daily, "", time.UTC, from, to},
		{"daily-" + fixtureZone, store.Daily, fixtureZone, ny, nyFrom, nyTo},
	}
	var version uint64
	replace := func(t *testing.T, g store.Granularity, zone string, from, to time.Time) {
		t.Helper()
		version++
		if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: g, TimeZone: zone, From: from, To: to, Version: version}); err != nil {
			t.Fatalf("ReplaceRollups: %v", err)
		}
	}
	for _, sp := range specs {
		t.Run("KnownVisits/"+sp.name, func(t *testing.T) {
			want := ExpectVisits(f.Events, site, sp.g, sp.loc, sp.from, sp.to)
			if len(want) == 0 {
				t.Fatal("the fixture has no visits here")
			}
			// Twice: a window's visits are replaced, never added to.
			for range 2 {
				replace(t, sp.g, sp.zone, sp.from, sp.to)
				got, err := b.Visits(ctx, store.RollupQuery{SiteID: site, Granularity: sp.g, From: sp.from, To: sp.to})
				if err != nil {
					t.Fatalf("Visits: %v", err)
				}
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("Visits (-want +got):\n%s", diff)
				}
			}
			m, err := b.WindowsMissing(ctx, store.RollupQuery{SiteID: site, Granularity: sp.g, From: sp.from, To: sp.to})
			if err != nil || m.Visits {
				t.Errorf("WindowsMissing after aggregation = %+v, %v; want visit rows", m, err)
			}
		})
	}
	// The UTC windows are the ones left written for the queries below.
	replace(t, store.Daily, "", from, to)

	gran := func(buckets string) store.Granularity {
		if buckets == "hour" || buckets == "uneven" {
			return store.Hourly
		}
		return store.Daily
	}
	for _, c := range filterCases {
		t.Run("Breakdown/"+c.name, func(t *testing.T) {
			q := store.VisitQuery{SiteID: site, Granularity: gran(c.buckets), Dimension: c.dim, Filters: c.filters,
				From: from, To: to, Buckets: fixtureBuckets(c.buckets, from, to)}
			want := ExpectVisitBreakdown(f.Events, q, time.UTC)
			if c.empty != (len(want) == 0) {
				t.Fatalf("the case expects empty=%v, but the reference model found %d rows; fix the case", c.empty, len(want))
			}
			got, err := b.VisitBreakdown(ctx, q)
			if err != nil {
				t.Fatalf("VisitBreakdown: %v", err)
			}
			sortRollups(got)
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("VisitBreakdown(%v by %q) (-want +got):\n%s", c.filters, c.dim, diff)
			}
		})
	}
	t.Run("Breakdown/EveryDimensionUnfiltered", func(t *testing.T) {
		for _, dim := range append([]string{store.DimTotal, store.DimCity}, store.RollupDimensions[1:]...) {
			if store.EmailDimension(dim) {
				continue
			}
			q := store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: dim, From: from, To: to}
			want := ExpectVisitBreakdown(f.Events, q, time.UTC)
			got, err := b.VisitBreakdown(ctx, q)
			if err != nil {
				t.Fatalf("VisitBreakdown(%q): %v", dim, err)
			}
			sortRollups(got)
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("VisitBreakdown(%q) (-want +got):\n%s", dim, diff)
			}
		}
	})
	// Where the buckets are the windows, visit rows and the raw events cut
	// visits at the same edges: the answers are equal, every figure.
	for _, c := range filterCases {
		if c.buckets != "day" && c.buckets != "hour" {
			continue
		}
		t.Run("EqualsRaw/"+c.name, func(t *testing.T) {
			buckets := fixtureBuckets(c.buckets, from, to)
			raw, err := b.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{SiteID: site, Dimension: c.dim, Filters: c.filters, From: from, To: to, Buckets: buckets})
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			got, err := b.VisitBreakdown(ctx, store.VisitQuery{SiteID: site, Granularity: gran(c.buckets), Dimension: c.dim, Filters: c.filters, From: from, To: to, Buckets: buckets})
			if err != nil {
				t.Fatalf("VisitBreakdown: %v", err)
			}
			sortRollups(raw)
			sortRollups(got)
			if len(raw) == 0 {
				t.Fatal("the raw answer is empty; the case proves nothing")
			}
			if diff := gocmp.Diff(raw, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("visit rows against raw events (-raw +visits):\n%s", diff)
			}
		})
	}
	// Over a range of several windows the raw path takes the range as one
	// window while visit rows are cut at window edges: a visit across
	// midnight is two visits (as in summed rollups), and its second part
	// has its own entry page. The fixture has such visits, so the two
	// answers differ, and each equals its own model.
	t.Run("WholeRangeCutsVisitsAtWindowEdges", func(t *testing.T) {
		q := store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: store.DimTotal, From: from, To: to}
		visits := ExpectVisitBreakdown(f.Events, q, time.UTC)
		raw := ExpectFiltered(f.Events, store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimTotal, From: from, To: to})
		if len(visits) != 1 || len(raw) != 1 || visits[0].Visits <= raw[0].Visits {
			t.Fatalf("the fixture has no visit across midnight: visit rows %+v, one window %+v", visits, raw)
		}
		if visits[0].Visitors != raw[0].Visitors || visits[0].Pageviews != raw[0].Pageviews {
			t.Errorf("visitors or pageviews differ: visit rows %+v, one window %+v", visits[0], raw[0])
		}
		got, err := b.VisitBreakdown(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(visits, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("VisitBreakdown (-want +got):\n%s", diff)
		}
	})
	// A replayed event (the same event stored again, a second part on
	// ClickHouse until a merge) counts once in the visit rows, as in the
	// reports.
	t.Run("ReplayedEventsCountOnce", func(t *testing.T) {
		// New ids: the fixture's are stored already, under the other site.
		replayed := addSite(t, b).ID
		events := make([]store.Event, len(f.Events))
		for i, e := range f.Events {
			e.SiteID, e.ID = replayed, uuid.New()
			events[i] = e
		}
		for i := range 2 {
			if err := b.InsertEvents(ctx, events); err != nil {
				t.Fatalf("InsertEvents #%d: %v", i+1, err)
			}
		}
		for _, g := range []store.Granularity{store.Hourly, store.Daily} {
			if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: replayed, Granularity: g, From: from, To: to, Version: 1}); err != nil {
				t.Fatalf("ReplaceRollups: %v", err)
			}
			got, err := b.Visits(ctx, store.RollupQuery{SiteID: replayed, Granularity: g, From: from, To: to})
			if err != nil {
				t.Fatalf("Visits: %v", err)
			}
			if diff := gocmp.Diff(ExpectVisits(f.Events, replayed, g, time.UTC, from, to), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s visits of events stored twice (-want +got):\n%s", g, diff)
			}
		}
	})
	// Visit rows hold visitor keys: erasing a subject's raw events erases
	// every visit row of its keys, and no other.
	t.Run("ErasureRemovesTheSubjectsVisits", func(t *testing.T) {
		q := store.RollupQuery{SiteID: site, Granularity: store.Daily, From: from, To: to}
		before, err := b.Visits(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var user string
		var key uint64
		for _, e := range f.Events {
			if e.UserID != "" && e.VisitorKey != 0 && !e.Bot {
				user, key = e.UserID, e.VisitorKey
				break
			}
		}
		want := slices.DeleteFunc(slices.Clone(before), func(v store.Visit) bool { return v.VisitorKey == key })
		if user == "" || len(want) == len(before) || len(want) == 0 {
			t.Fatalf("the fixture has no signed-in visitor with visits (%q, %d of %d visits)", user, len(before)-len(want), len(before))
		}
		if _, err := b.EraseSubject(ctx, store.Subject{UserID: user}); err != nil {
			t.Fatalf("EraseSubject: %v", err)
		}
		got, err := b.Visits(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("visit rows after erasing %s (-want +got):\n%s", user, diff)
		}
	})
	t.Run("RefusesBadQueries", func(t *testing.T) {
		for _, q := range []store.VisitQuery{
			{SiteID: site, Granularity: "week", From: from, To: to},
			{SiteID: site, Granularity: store.Daily, Dimension: "nope", From: from, To: to},
			{SiteID: site, Granularity: store.Daily, From: from, To: to, Filters: []store.Filter{{Dim: store.DimPage, Op: "<>", Value: "x"}}},
			{SiteID: site, Granularity: store.Daily, From: from, To: to, Filters: make([]store.Filter, store.MaxFilters+1)},
		} {
			if _, err := b.VisitBreakdown(ctx, q); err == nil {
				t.Errorf("VisitBreakdown(%+v) = nil error, want one", q)
			}
		}
	})
}
