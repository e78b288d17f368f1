package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// SketchBackend is what the visitor sketch suite exercises.
type SketchBackend interface {
	Backend
	ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error)
	ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error)
	VisitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error)
	WindowsMissing(ctx context.Context, q store.RollupQuery) (store.MissingWindows, error)
	SketchVisitors(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error)
}

// sketchVisitors is how many visitors the sketch fixture has: enough that
// both backends' sketches estimate (past their exact small-set forms).
const sketchVisitors = 12000

// RunSketches checks the visitor sketches (store/sketches.go): written with
// each window's rollups, they estimate the distinct visitors of several
// windows within store.SketchErrorBound of the exact count from the visit
// rows, per bucket too, and they outlive the retention that deletes the
// raw events and visit rows. open must return a store of its own:
// retention acts on every site.
func RunSketches(t *testing.T, open func(t *testing.T) SketchBackend) {
	b := open(t)
	ctx := context.Background()
	site := addSite(t, b).ID
	day0 := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	const days = 4
	// Visitor k visits on day d unless (k+d) % 3 == 0: about two thirds
	// of the visitors each day, each visitor on several days, so a sum of
	// the days' visitors would be twice the distinct count.
	exact := make([]map[uint64]bool, 2) // day 0, days 1-3
	var events []store.Event
	for k := range uint64(sketchVisitors) {
		for d := range days {
			if (k+uint64(d))%3 == 0 {
				continue
			}
			key := k*0x9E3779B97F4A7C15 + 1 // spread, never 0
			at := day0.AddDate(0, 0, d).Add(time.Duration(k%86000) * time.Second)
			events = append(events, store.Event{
				ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at, ReceivedAt: at,
				Host: "example.test", Path: "/", VisitorKey: key, KeyVersion: 1, SessionID: key + uint64(d),
				Consent: store.ConsentAnalytics, Device: "desktop", Country: "DE",
			})
			half := min(d, 1)
			if exact[half] == nil {
				exact[half] = map[uint64]bool{}
			}
			exact[half][key] = true
		}
	}
	for i := 0; i < len(events); i += 10000 {
		if err := b.InsertEvents(ctx, events[i:min(i+10000, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
	for d := range days {
		from := day0.AddDate(0, 0, d)
		if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: from, To: from.AddDate(0, 0, 1), Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	end := day0.AddDate(0, 0, days)
	mid := day0.AddDate(0, 0, 1)
	all := map[uint64]bool{}
	for _, m := range exact {
		for k := range m {
			all[k] = true
		}
	}
	q := store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: store.DimTotal, From: day0, To: end}
	halves := q
	halves.Buckets = []time.Time{day0, mid}

	rows, err := b.VisitBreakdown(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Visitors != uint64(len(all)) {
		t.Fatalf("visit rows: %+v, want %d visitors", rows, len(all))
	}
	within := func(when string, q store.VisitQuery, want []int) []uint64 {
		t.Helper()
		rows, err := b.SketchVisitors(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(rows) != len(want) {
			t.Fatalf("%s: %d rows %+v, want %d", when, len(rows), rows, len(want))
		}
		var got []uint64
		for i, r := range rows {
			if r.Dimension != store.DimTotal || !r.WindowStart.Equal(q.BucketStarts()[i]) {
				t.Errorf("%s: row %d is %+v, want the bucket of %s", when, i, r, q.BucketStarts()[i])
			}
			if e := math.Abs(float64(r.Visitors)-float64(want[i])) / float64(want[i]); e > store.SketchErrorBound {
				t.Errorf("%s: bucket %s: estimate %d, exact %d: error %.2f%%, over the bound of %.0f%%",
					when, r.WindowStart.Format(time.DateOnly), r.Visitors, want[i], e*100, store.SketchErrorBound*100)
			}
			got = append(got, r.Visitors)
		}
		return got
	}
	before := within("before retention", q, []int{len(all)})
	beforeHalves := within("before retention, two buckets", halves, []int{len(exact[0]), len(exact[1])})
	t.Logf("estimates: %v of %d, %v of %d and %d", before, len(all), beforeHalves, len(exact[0]), len(exact[1]))
	rq := store.RollupQuery{SiteID: site, Granularity: store.Daily, From: day0, To: end}
	if m, err := b.WindowsMissing(ctx, rq); err != nil || m != (store.MissingWindows{}) {
		t.Fatalf("WindowsMissing after aggregation: %+v, %v; want nothing missing", m, err)
	}
	// Aggregating a window again replaces its sketch: the estimate stays.
	if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: day0, To: day0.AddDate(0, 0, 1), Version: 2}); err != nil {
		t.Fatal(err)
	}
	if again := within("after a re-run", q, []int{len(all)}); again[0] != before[0] {
		t.Errorf("after re-running a window the estimate is %d, was %d", again[0], before[0])
	}

	// Retention deletes the raw events and the visit rows, not the sketches.
	if _, err := b.ApplyRetention(ctx, store.RetentionPlan{EventsBefore: end.AddDate(0, 1, 0)}, false); err != nil {
		t.Fatal(err)
	}
	m, err := b.WindowsMissing(ctx, rq)
	if err != nil || !m.Visits {
		t.Fatalf("WindowsMissing after retention: %+v, %v; want the visit rows missing", m, err)
	}
	after := within("after retention", q, []int{len(all)})
	if after[0] != before[0] {
		t.Errorf("after retention the estimate is %d, was %d", after[0], before[0])
	}
	if m.Sketches {
		t.Errorf("WindowsMissing after retention: %+v; want the sketches kept", m)
	}
	if _, err := b.SketchVisitors(ctx, store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: store.DimCountry, From: day0, To: end}); err == nil {
		t.Error("SketchVisitors of a dimension's values: no error; sketches keep only the totals")
	}
}
