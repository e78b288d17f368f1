package report

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
)

// calls is a Store that answers nothing and records what it was asked;
// WindowsMissing answers missing visit rows, missing values where missing
// or oldValues (visit rows written before they kept custom properties),
// and missing sketches unless sketched, and counts its calls in windows.
type calls struct {
	missing   bool
	oldValues bool
	sketched  bool
	revenue   bool // HasRevenue's answer
	names     []string
	windows   int
	// narrowed records each FilteredBreakdown's FromVisits and Fresh.
	narrowed []string
	// partialFrom, if set, makes Rollups answer a totals row for every
	// day of the range, partial from partialFrom on.
	partialFrom time.Time
}

func (c *calls) SketchVisitors(context.Context, store.VisitQuery) ([]store.RollupRow, error) {
	c.names = append(c.names, "SketchVisitors")
	return nil, nil
}

func (c *calls) WindowsMissing(context.Context, store.RollupQuery) (store.MissingWindows, error) {
	c.windows++
	return store.MissingWindows{Visits: c.missing, Values: c.missing || c.oldValues, Sketches: !c.sketched}, nil
}

func (c *calls) Rollups(_ context.Context, q store.RollupQuery) ([]store.RollupRow, error) {
	c.names = append(c.names, "Rollups")
	if c.partialFrom.IsZero() {
		return nil, nil
	}
	var out []store.RollupRow
	for d := q.From; d.Before(q.To); d = d.AddDate(0, 0, 1) {
		out = append(out, store.RollupRow{SiteID: q.SiteID, WindowStart: d, Partial: !d.Before(c.partialFrom)})
	}
	return out, nil
}

func (c *calls) DistinctVisitors(context.Context, store.VisitorQuery) (uint64, error) {
	c.names = append(c.names, "DistinctVisitors")
	return 0, nil
}

func (c *calls) VisitorsByValue(context.Context, store.ValueVisitorQuery) (map[string]uint64, error) {
	c.names = append(c.names, "VisitorsByValue")
	return nil, nil
}

func (c *calls) VisitorsMatching(context.Context, store.MatchVisitorQuery) (uint64, error) {
	c.names = append(c.names, "VisitorsMatching")
	return 0, nil
}

func (c *calls) FilteredBreakdown(_ context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error) {
	c.names = append(c.names, "FilteredBreakdown")
	if q.FromVisits {
		c.narrowed = append(c.narrowed, "fresh from "+q.Fresh.Format(time.DateOnly))
	} else {
		c.narrowed = append(c.narrowed, "every event")
	}
	return nil, nil
}

func (c *calls) VisitBreakdown(context.Context, store.VisitQuery) ([]store.RollupRow, error) {
	c.names = append(c.names, "VisitBreakdown")
	return nil, nil
}

func (c *calls) HasRevenue(context.Context, store.VisitorQuery) (bool, error) {
	c.names = append(c.names, "HasRevenue")
	return c.revenue, nil
}

func (c *calls) PageviewCounts(context.Context, store.CountQuery) ([]store.Count, error) {
	c.names = append(c.names, "PageviewCounts")
	return nil, nil
}

// TestPlannerReadsVisitRows: what the rollups cannot answer comes from the
// visit rows, and from the raw events only where a window has rollups but
// no visit rows (aggregated before visit rows were kept).
func TestPlannerReadsVisitRows(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	for _, c := range []struct {
		name   string
		kind   Kind
		params map[string]string
		visits []string // the raw paths must not be called
		raw    []string // with visit rows missing
		// sketched: with visit rows missing and every window sketched
		// (retention deleted the visit rows); nil: as raw.
		sketched []string
	}{
		{"VisitorsOfSeveralDays", Aggregate, map[string]string{"period": "7d"}, []string{"VisitBreakdown"}, []string{"DistinctVisitors"}, []string{"SketchVisitors"}},
		// Both periods in one query per source.
		{"Compare", Aggregate, map[string]string{"period": "7d", "compare": "previous_period"}, []string{"VisitBreakdown"}, []string{"DistinctVisitors"}, []string{"SketchVisitors"}},
		{"CompareTwoFilters", Aggregate, map[string]string{"period": "7d", "compare": "previous_period", "filters": "country==DE;device==mobile"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"VisitorsOfAValue", Aggregate, map[string]string{"period": "7d", "filters": "country==DE"}, []string{"VisitBreakdown"}, []string{"VisitorsByValue"}, nil},
		{"VisitorsNotEqual", Aggregate, map[string]string{"period": "7d", "filters": "source!=direct"}, []string{"VisitBreakdown"}, []string{"VisitorsMatching"}, nil},
		{"TwoFilters", Aggregate, map[string]string{"period": "7d", "filters": "country==DE;page==/pricing"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"TimeseriesTwoFilters", Timeseries, map[string]string{"period": "7d", "filters": "country==DE;device==mobile"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"HourlyTwoFilters", Timeseries, map[string]string{"period": "day", "filters": "country==DE;device==mobile"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"Weeks", Timeseries, map[string]string{"period": "30d", "interval": "week"}, []string{"VisitBreakdown"}, []string{"DistinctVisitors"}, []string{"SketchVisitors"}},
		{"BreakdownFiltered", Breakdown, map[string]string{"period": "7d", "property": "source", "filters": "country==DE"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"BreakdownVisitors", Breakdown, map[string]string{"period": "7d", "property": "entry_page"}, []string{"Rollups", "VisitBreakdown"}, []string{"Rollups", "VisitorsByValue"}, nil},
		{"PropertyBreakdown", Breakdown, map[string]string{"period": "7d", "property": "props:plan"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"PropertyBreakdownFiltered", Breakdown, map[string]string{"period": "7d", "property": "props:plan", "filters": "country==DE"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
		{"PropertyFilter", Aggregate, map[string]string{"period": "7d", "filters": "props:plan==pro"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(c.kind, c.params, site, time.UTC, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct{ missing, sketched bool }{{false, false}, {true, false}, {true, true}} {
				missing := v.missing
				st := runOn(t, &calls{missing: v.missing, sketched: v.sketched}, q, now)
				want := c.visits
				if missing {
					want = c.raw
				}
				if v.sketched && c.sketched != nil {
					want = c.sketched
				}
				got := slices.DeleteFunc(slices.Clone(st.names), func(n string) bool {
					return n == "Rollups" && !slices.Contains(want, "Rollups")
				})
				got = slices.Compact(got)
				if !slices.Equal(got, want) {
					t.Errorf("visit rows missing=%v, sketched=%v: the store was asked %v, want %v", missing, v.sketched, st.names, want)
				}
			}
		})
	}
}

// TestPlannerAsksOncePerRange: whether a range has visit rows, values and
// sketches is one store query per range and Run, however often the plan
// needs to know (visit rows missing, then sketches; each period's visitors).
func TestPlannerAsksOncePerRange(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	for _, c := range []struct {
		params map[string]string
		ranges int
	}{
		{map[string]string{"period": "7d"}, 1},
		// Both periods as one range, then each alone where they lack visit rows.
		{map[string]string{"period": "7d", "compare": "previous_period"}, 3},
	} {
		q, err := ParseQuery(Aggregate, c.params, site, time.UTC, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []*calls{{}, {missing: true}, {missing: true, sketched: true}} {
			runOn(t, st, q, now)
			if st.windows == 0 || st.windows > c.ranges {
				t.Errorf("%v, visit rows missing=%v, sketched=%v: WindowsMissing asked %d times, want 1 to %d",
					c.params, st.missing, st.sketched, st.windows, c.ranges)
			}
		}
	}
}

// runOn runs q on st, a planner's store, and returns st.
func runOn(t *testing.T, st *calls, q Query, now time.Time) *calls {
	t.Helper()
	if _, err := New(st, func() time.Time { return now }).Run(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestPropertiesNeedVisitRowsThatKeepThem: where a window's visit rows were
// written before they kept custom properties (store.TouchedVersion), a
// report on a property reads the raw events; other filtered reports still
// read the visit rows.
func TestPropertiesNeedVisitRowsThatKeepThem(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	for _, c := range []struct {
		name    string
		kind    Kind
		params  map[string]string
		current []string // visit rows of the current version
		old     []string // visit rows of every window, without properties
	}{
		{"PropertyBreakdown", Breakdown, map[string]string{"period": "7d", "property": "props:plan"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}},
		{"PropertyKeys", Breakdown, map[string]string{"period": "7d", "property": "props", "filters": "country==DE"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}},
		{"PropertyFilter", Aggregate, map[string]string{"period": "7d", "filters": "props:plan==pro;country==DE"}, []string{"VisitBreakdown"}, []string{"FilteredBreakdown"}},
		{"OtherFilters", Aggregate, map[string]string{"period": "7d", "filters": "page==/pricing;country==DE"}, []string{"VisitBreakdown"}, []string{"VisitBreakdown"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := ParseQuery(c.kind, c.params, site, time.UTC, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, old := range []bool{false, true} {
				st := runOn(t, &calls{oldValues: old}, q, now)
				want := c.current
				if old {
					want = c.old
				}
				if got := slices.DeleteFunc(slices.Clone(st.names), func(n string) bool { return n == "Rollups" }); !slices.Equal(got, want) {
					t.Errorf("visit rows without properties=%v: the store was asked %v, want %v", old, st.names, want)
				}
			}
		})
	}
}

// TestGoalsReadRevenueOnlyWhereRecorded: a goals breakdown makes its second
// raw pass, for the event goals' revenue, only when the period has an
// event with revenue; page goals alone never ask.
func TestGoalsReadRevenueOnlyWhereRecorded(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	q, err := ParseQuery(Breakdown, map[string]string{"period": "7d", "property": "goal", "metrics": "visitors"}, site, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		goals   []store.Goal
		revenue bool
		want    []string
	}{
		{"NoRevenue", []store.Goal{{Name: "Buy", Event: "Buy"}}, false, []string{"VisitBreakdown", "HasRevenue"}},
		{"Revenue", []store.Goal{{Name: "Buy", Event: "Buy"}}, true, []string{"VisitBreakdown", "HasRevenue", "FilteredBreakdown"}},
		{"PageGoals", []store.Goal{{Name: "Home", Page: "/"}}, true, []string{"VisitBreakdown"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &calls{revenue: c.revenue}
			q.Goals = c.goals
			if _, err := New(st, func() time.Time { return now }).Run(context.Background(), q); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(st.names, c.want) {
				t.Errorf("the store was asked %v, want %v", st.names, c.want)
			}
		})
	}
}

// TestGoalsReadVisitRows: goals and goal filters read the visit rows
// where they answer (goals without props, visit rows for every window, no
// engaged time of the goals' events asked), else the raw events; a
// funnel under a filter the visit rows keep reads the events of the
// visitors they allow, and every visitor's from the first day without
// complete rollups (here the day before now, aggregated while partial).
func TestGoalsReadVisitRows(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	page, event := store.Goal{Name: "Home", Page: "/"}, store.Goal{Name: "Buy", Event: "Buy"}
	pro := store.Goal{Name: "Pro", Event: "Buy", Props: []store.Prop{{Key: "plan", Value: "pro"}}}
	for _, c := range []struct {
		name     string
		kind     Kind
		params   map[string]string
		goals    []store.Goal
		missing  bool
		want     []string
		narrowed []string
	}{
		{"Breakdown", Breakdown, map[string]string{"property": "goal", "metrics": "visitors,conversion_rate"}, []store.Goal{page, event}, false,
			[]string{"VisitBreakdown", "VisitBreakdown", "HasRevenue"}, nil},
		{"BreakdownPropsGoal", Breakdown, map[string]string{"property": "goal", "metrics": "visitors"}, []store.Goal{page, pro}, false,
			[]string{"FilteredBreakdown", "HasRevenue"}, []string{"every event"}},
		{"BreakdownEngagedTime", Breakdown, map[string]string{"property": "goal", "metrics": "engaged_time"}, []store.Goal{page}, false,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
		{"BreakdownWithoutVisitRows", Breakdown, map[string]string{"property": "goal", "metrics": "visitors"}, []store.Goal{page}, true,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
		{"Filter", Aggregate, map[string]string{"filters": "goal==Home;country==DE"}, []store.Goal{page, event}, false,
			[]string{"VisitBreakdown"}, nil},
		{"FilterPropsGoal", Timeseries, map[string]string{"filters": "goal==Home"}, []store.Goal{page, pro}, false,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
		{"Funnel", Funnel, map[string]string{"funnel": "F"}, []store.Goal{page, event}, false,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
		{"FunnelFiltered", Funnel, map[string]string{"funnel": "F", "filters": "country==DE;goal==Buy"}, []store.Goal{page, event}, false,
			[]string{"FilteredBreakdown"}, []string{"fresh from 2026-03-19"}},
		{"FunnelGoalFilter", Funnel, map[string]string{"funnel": "F", "filters": "goal==Buy"}, []store.Goal{page, event}, false,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
		{"FunnelWithoutVisitRows", Funnel, map[string]string{"funnel": "F", "filters": "country==DE"}, []store.Goal{page, event}, true,
			[]string{"FilteredBreakdown"}, []string{"every event"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.params["period"] = "7d"
			q, err := ParseQuery(c.kind, c.params, site, time.UTC, now)
			if err != nil {
				t.Fatal(err)
			}
			q.Goals, q.Funnels = c.goals, []store.Funnel{{Name: "F", Steps: []string{"Home", "Buy"}}}
			st := &calls{missing: c.missing, partialFrom: time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC)}
			if _, err := New(st, func() time.Time { return now }).Run(context.Background(), q); err != nil {
				t.Fatal(err)
			}
			if got := slices.DeleteFunc(slices.Clone(st.names), func(n string) bool { return n == "Rollups" || n == "SketchVisitors" }); !slices.Equal(got, c.want) {
				t.Errorf("the store was asked %v, want %v", st.names, c.want)
			}
			if !slices.Equal(st.narrowed, c.narrowed) {
				t.Errorf("raw reads %v, want %v", st.narrowed, c.narrowed)
			}
		})
	}
}

// sampler is a calls store that samples, as the ClickHouse store does: its
// rollups count events raw events, and its VisitBreakdown answers one row
// of the sample, recording the rate it was asked for.
type sampler struct {
	calls
	events uint64
	asked  []uint32
}

func (s *sampler) RawEvents(context.Context, store.RollupQuery) (uint64, error) { return s.events, nil }

func (s *sampler) VisitBreakdown(_ context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	s.asked = append(s.asked, q.Sample)
	return []store.RollupRow{{WindowStart: q.From, Visitors: 3, Visits: 5, Pageviews: 7, Events: 2, Bounces: 1, DurationSec: 60}}, nil
}

// TestPlannerSamples: over the threshold the visit rows are read from a
// sample of 1/⌈events/threshold⌉ (at most MaxSample), every count scaled
// back and the result marked; at or under it, without a threshold, or on
// a store that cannot sample, every row is read and nothing is marked.
func TestPlannerSamples(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	site := store.Site{ID: 1, Domain: "shop.example"}
	q, err := ParseQuery(Aggregate, map[string]string{"period": "7d", "filters": "country==DE;device==mobile",
		"metrics": "visitors,visits,pageviews,events,bounce_rate,visit_duration"}, site, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		events, above uint64
		want          uint32 // the rate; 1 for none
	}{
		{"Off", 1_000_000, 0, 1},
		{"AtThreshold", 1000, 1000, 1},
		{"JustOver", 1001, 1000, 2},
		{"Tenfold", 10_000, 1000, 10},
		{"Capped", 1_000_000_000, 1000, MaxSample},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &sampler{events: c.events}
			res, err := New(st, func() time.Time { return now }).WithSampling(c.above).Run(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.asked) == 0 {
				t.Fatal("the visit rows were not read")
			}
			for _, n := range st.asked {
				if max(n, 1) != c.want {
					t.Errorf("VisitBreakdown asked for a sample of 1/%d, want 1/%d", n, c.want)
				}
			}
			f := uint64(c.want)
			want := []any{3 * f, 5 * f, 7 * f, 2 * f, 20.0, 12.0}
			if !slices.Equal(res.Rows[0].Values, want) {
				t.Errorf("values %v, want %v", res.Rows[0].Values, want)
			}
			wantMark := uint32(0)
			if c.want > 1 {
				wantMark = c.want
			}
			if res.Sampled != wantMark {
				t.Errorf("Sampled = %d, want %d", res.Sampled, wantMark)
			}
			if got, ok := res.JSON()["sampled"]; (wantMark > 1) != ok || ok && got != fmt.Sprintf("1/%d", wantMark) {
				t.Errorf("JSON sampled = %v (present %v), want 1/%d", got, ok, wantMark)
			}
		})
	}
	// A store without RawEvents (SQLite) is never asked for a sample.
	st := &calls{}
	res, err := New(st, func() time.Time { return now }).WithSampling(1).Run(context.Background(), q)
	if err != nil || res.Sampled != 0 {
		t.Errorf("a store that cannot sample: Sampled %d, %v; want 0", res.Sampled, err)
	}
}
