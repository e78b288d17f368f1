package aggregator_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
)

var (
	day1 = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	day3 = day1.AddDate(0, 0, 2)
)

// jobKinds summarises a plan as reason → windows, per granularity.
func jobKinds(jobs []aggregator.Job) map[string]int {
	out := map[string]int{}
	for _, j := range jobs {
		out[string(j.Granularity)+"/"+j.Reason] += len(j.Windows)
	}
	return out
}

// TestOnceRerunsAndLateData is the aggregator's acceptance on both
// backends: -once does every complete window and the open one, gives the
// fixture's known answers, a window run three times gives identical tables,
// and an event arriving after its window was aggregated re-queues it.
func TestOnceRerunsAndLateData(t *testing.T) {
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, f := seeded(t, st)
		clk := &clock{now: day3.Add(30 * time.Minute)}
		agg := aggregator.New(aggregator.Options{Store: st, Now: clk.Now})

		plan, err := agg.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := f.Events[0].Time
		if c := f.Consent[0].Time; c.Before(first) {
			first = c
		}
		wantPlan := map[string]int{
			"hour/pending": int(day3.Sub(first.Truncate(time.Hour)) / time.Hour), "hour/partial": 1,
			"day/pending": 2, "day/partial": 1,
		}
		if diff := cmp.Diff(wantPlan, jobKinds(plan)); diff != "" {
			t.Fatalf("first plan (-want +got):\n%s", diff)
		}
		sum, err := agg.Run(ctx, plan)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if sum.Failed != 0 || sum.RowsRead == 0 || sum.RowsWritten == 0 {
			t.Errorf("summary %+v", sum)
		}
		// The fixture's known answers, through the aggregator.
		got := takeSnapshot(t, st, site.ID, day1, day3)
		for _, c := range f.Cases[:2] {
			want, wantConsent := c.WithSite(site.ID)
			rows, cons := got.Hourly, got.ConsentHourly
			if c.Granularity == store.Daily {
				rows, cons = got.Daily, got.ConsentDaily
			}
			if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s rollups after -once (-want +got):\n%s", c.Name, diff)
			}
			if diff := cmp.Diff(wantConsent, cons, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s consent rollups after -once (-want +got):\n%s", c.Name, diff)
			}
		}

		// Nothing is due again but the open windows.
		plan, err = agg.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"hour/partial": 1, "day/partial": 1}, jobKinds(plan)); diff != "" {
			t.Errorf("second plan (-want +got):\n%s", diff)
		}

		// The same windows three times: identical tables.
		for run := range 3 {
			clk.Set(day3.Add(time.Duration(31+run) * time.Minute))
			if _, err := agg.Recompute(ctx, day1, day1.AddDate(0, 0, 1)); err != nil {
				t.Fatalf("recompute %d: %v", run+1, err)
			}
			if diff := cmp.Diff(got, takeSnapshot(t, st, site.ID, day1, day3)); diff != "" {
				t.Fatalf("recompute %d changed the tables (-first +now):\n%s", run+1, diff)
			}
		}

		// A late event for 10:xx on day 1 re-queues that hour and that day.
		clk.Set(day3.Add(40 * time.Minute))
		late := store.Event{
			ID: uuid.New(), SiteID: site.ID, Type: store.Pageview, Time: day1.Add(10*time.Hour + 7*time.Minute),
			ReceivedAt: clk.Now(), Path: "/late", VisitorKey: 777, Country: "DE",
		}
		if err := st.InsertEvents(ctx, []store.Event{late}); err != nil {
			t.Fatal(err)
		}
		clk.Set(day3.Add(45 * time.Minute))
		plan, err = agg.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"hour/late": 1, "hour/partial": 1, "day/late": 1, "day/partial": 1}, jobKinds(plan)); diff != "" {
			t.Fatalf("plan after a late event (-want +got):\n%s", diff)
		}
		for _, j := range plan {
			if j.Reason == aggregator.ReasonLate {
				want := store.WindowStart(j.Granularity, time.UTC, late.Time)
				if !j.From.Equal(want) {
					t.Errorf("late %s job starts %v, want %v", j.Granularity, j.From, want)
				}
			}
		}
		if _, err := agg.Run(ctx, plan); err != nil {
			t.Fatal(err)
		}
		after := takeSnapshot(t, st, site.ID, day1, day3)
		if !hasRow(after.Hourly, day1.Add(10*time.Hour), "page", "/late") || !hasRow(after.Daily, day1, "page", "/late") {
			t.Error("the late event is not in its hour's and day's rollups")
		}
		if total(after.Daily, day1).Pageviews != total(got.Daily, day1).Pageviews+1 {
			t.Errorf("day 1 pageviews %d, want %d", total(after.Daily, day1).Pageviews, total(got.Daily, day1).Pageviews+1)
		}
		// Re-queued once: the next plan is back to the open windows.
		plan, err = agg.Plan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"hour/partial": 1, "day/partial": 1}, jobKinds(plan)); diff != "" {
			t.Errorf("plan after the late run (-want +got):\n%s", diff)
		}
		runs, err := st.Runs(ctx, store.RunQuery{SiteID: site.ID, Granularity: store.Hourly, From: day1.Add(10 * time.Hour), To: day1.Add(11 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		// -once, three recomputes, the late run.
		if len(runs) != 5 || runs[4].Status != store.RunOK || runs[4].RowsRead == 0 || runs[4].Finished.Before(runs[4].Started) {
			t.Errorf("run log of hour 10: %+v", runs)
		}
	})
}

func hasRow(rows []store.RollupRow, win time.Time, dim, value string) bool {
	for _, r := range rows {
		if r.WindowStart.Equal(win) && r.Dimension == dim && r.Value == value {
			return true
		}
	}
	return false
}

func total(rows []store.RollupRow, win time.Time) store.RollupRow {
	for _, r := range rows {
		if r.WindowStart.Equal(win) && r.Dimension == store.DimTotal {
			return r
		}
	}
	return store.RollupRow{}
}

// TestFailedRunIsRetried: a window whose latest run failed is pending again.
func TestFailedRunIsRetried(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	site, _ := seeded(t, st)
	clk := &clock{now: day3.Add(30 * time.Minute)}
	agg := aggregator.New(aggregator.Options{Store: st, Now: clk.Now})
	if _, err := agg.Once(ctx); err != nil {
		t.Fatal(err)
	}
	w := day1.Add(5 * time.Hour)
	if err := st.AppendRuns(ctx, []store.Run{{SiteID: site.ID, Granularity: store.Hourly, WindowStart: w, WindowEnd: w.Add(time.Hour),
		Version: uint64(day3.Add(time.Hour).UnixNano()), Started: clk.Now(), Finished: clk.Now(), Status: store.RunFailed, Error: "disk full"}}); err != nil {
		t.Fatal(err)
	}
	plan, err := agg.Plan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"hour/pending": 1, "hour/partial": 1, "day/partial": 1}, jobKinds(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// TestRecomputeMarksOpenWindowsPartial: -from -to reaching today marks only
// the open windows partial and skips those not begun.
func TestRecomputeMarksOpenWindowsPartial(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	if _, err := st.AddSite(ctx, "zoned.example"); err != nil {
		t.Fatal(err)
	}
	now := day1.Add(26*time.Hour + 15*time.Minute) // day 2, 02:15 UTC = 03:15 in Berlin
	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return now },
		Zone: func(string) string { return "Europe/Berlin" }})
	jobs, err := agg.PlanRange(ctx, day1, day1.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.String())
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := []string{
		// Hourly windows are UTC; the first day needs one job, the second
		// day has two complete hours and the open one.
		aggregator.Job{Site: store.Site{Domain: "zoned.example"}, Granularity: store.Hourly, From: day1, To: day1.Add(24 * time.Hour), Windows: make([]store.Window, 24), Reason: "recompute"}.String(),
		aggregator.Job{Site: store.Site{Domain: "zoned.example"}, Granularity: store.Hourly, From: day1.Add(24 * time.Hour), To: day1.Add(26 * time.Hour), Windows: make([]store.Window, 2), Reason: "recompute"}.String(),
		aggregator.Job{Site: store.Site{Domain: "zoned.example"}, Granularity: store.Hourly, From: day1.Add(26 * time.Hour), To: day1.Add(27 * time.Hour), Windows: make([]store.Window, 1), Reason: "recompute"}.String(),
		// Daily windows are the 14th and 15th in Berlin; the 15th is open.
		aggregator.Job{Site: store.Site{Domain: "zoned.example"}, Granularity: store.Daily, From: time.Date(2026, 3, 14, 0, 0, 0, 0, berlin).UTC(), To: time.Date(2026, 3, 15, 0, 0, 0, 0, berlin).UTC(), Windows: make([]store.Window, 1), Reason: "recompute"}.String(),
		aggregator.Job{Site: store.Site{Domain: "zoned.example"}, Granularity: store.Daily, From: time.Date(2026, 3, 15, 0, 0, 0, 0, berlin).UTC(), To: time.Date(2026, 3, 16, 0, 0, 0, 0, berlin).UTC(), Windows: make([]store.Window, 1), Reason: "recompute"}.String(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	for _, j := range jobs {
		open := j.To.After(now)
		if j.Partial != open {
			t.Errorf("%s: partial %v, want %v", j, j.Partial, open)
		}
	}
}
