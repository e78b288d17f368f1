package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
)

// TestInsertVisitsMatchesSQL holds the visit rows ReplaceRollups cuts in
// Go (store.CutVisits) and the rollups it sums from them
// (store.RollupCells) to those of the SQL statements they replaced, on
// random events made for the rules' edges (storetest.RandomVisitEvents),
// some stored twice (a replay not yet merged away), in hourly windows,
// daily ones and daily ones of a +05:30 zone. The SQL broke a tie of time
// and type between two events of a visit arbitrarily (argMin by time and
// type), where the Go rule takes the lower id as SQLite always did, so the
// events here have no such ties (SQLite's test keeps them).
func TestInsertVisitsMatchesSQL(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	specs := []store.RollupSpec{
		{Granularity: store.Hourly, From: day, To: day.Add(24 * time.Hour), Version: 3},
		{Granularity: store.Daily, From: day, To: day.Add(24 * time.Hour), Version: 4, Partial: true},
		{Granularity: store.Daily, TimeZone: "Asia/Kolkata", From: time.Date(2026, 11, 3, 0, 0, 0, 0, kolkata),
			To: time.Date(2026, 11, 4, 0, 0, 0, 0, kolkata), Version: 5},
	}
	for i, spec := range specs {
		t.Run(fmt.Sprintf("%s %s", spec.Granularity, spec.TimeZone), func(t *testing.T) {
			var (
				visits  [2][]store.Visit
				rollups [2][]store.RollupRow
			)
			for j, reference := range []bool{false, true} {
				site, err := s.AddSite(ctx, fmt.Sprintf("s%d-%d.example", i, j))
				if err != nil {
					t.Fatal(err)
				}
				events := untied(storetest.RandomVisitEvents(rand.New(rand.NewPCG(15, 2026)), site.ID, day))
				// Two inserts: the second a replay of every fifth event.
				var replays []store.Event
				for k := 0; k < len(events); k += 5 {
					replays = append(replays, events[k])
				}
				for _, batch := range [][]store.Event{events, replays} {
					if err := s.InsertEvents(ctx, batch); err != nil {
						t.Fatal(err)
					}
				}
				spec.SiteID = site.ID
				if err := s.InsertVisits(ctx, spec, reference); err != nil {
					t.Fatal(err)
				}
				if visits[j], err = s.Visits(ctx, store.RollupQuery{SiteID: site.ID, Granularity: spec.Granularity, From: spec.From, To: spec.To}); err != nil {
					t.Fatal(err)
				}
				for k := range visits[j] {
					visits[j][k].SiteID = 0
				}
				q := store.RollupQuery{SiteID: site.ID, Granularity: spec.Granularity, From: spec.From, To: spec.To}
				if rollups[j], err = s.Rollups(ctx, q); err != nil {
					t.Fatal(err)
				}
				for k := range rollups[j] {
					rollups[j][k].SiteID = 0
				}
			}
			got, want := visits[0], visits[1]
			if len(want) < 50 {
				t.Fatalf("the fixture makes too few visits to test anything: %d", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("visits cut in Go differ from the SQL's (-SQL +Go):\n%s", diff)
			}
			if len(rollups[1]) < 30 {
				t.Fatalf("the fixture makes too few rollup rows to test anything: %d", len(rollups[1]))
			}
			if diff := cmp.Diff(rollups[1], rollups[0]); diff != "" {
				t.Errorf("rollups summed in Go differ from the SQL's (-SQL +Go):\n%s", diff)
			}
		})
	}
}

// untied leaves out each event that has the time and type of an earlier
// one of the same visitor key and session id.
func untied(events []store.Event) []store.Event {
	type tie struct {
		visitorKey, sessionID uint64
		time                  time.Time
		typ                   store.EventType
	}
	seen := map[tie]bool{}
	var out []store.Event
	for _, e := range events {
		k := tie{e.VisitorKey, e.SessionID, e.Time, e.Type}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
