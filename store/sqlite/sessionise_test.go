package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/storetest"
)

// TestStageVisitsMatchesRowsFragment holds stageVisits (visits cut by
// store.CutVisits, rollups summed in Go) to the rows fragment's SQL (the
// reports' definition of a visit) and the rollups' SQL, on random events
// made for the rules' edges (storetest.RandomVisitEvents) and a range
// that cuts visits at its ends.
func TestStageVisitsMatchesRowsFragment(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	site, err := s.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	if err := s.InsertEvents(ctx, storetest.RandomVisitEvents(rand.New(rand.NewPCG(15, 2026)), site.ID, day)); err != nil {
		t.Fatal(err)
	}
	specs := []store.RollupSpec{
		{SiteID: site.ID, Granularity: store.Hourly, From: day, To: day.Add(24 * time.Hour), Version: 3},
		{SiteID: site.ID, Granularity: store.Daily, From: day, To: day.Add(24 * time.Hour), Version: 4, Partial: true},
		{SiteID: site.ID, Granularity: store.Daily, TimeZone: "Asia/Kolkata", From: time.Date(2026, 11, 3, 0, 0, 0, 0, kolkata(t)),
			To: time.Date(2026, 11, 4, 0, 0, 0, 0, kolkata(t)), Version: 5},
	}
	reference, err := os.ReadFile("testdata/visits_insert_reference.sql")
	if err != nil {
		t.Fatal(err)
	}
	referenceValues, err := os.ReadFile("testdata/visit_values_insert_reference.sql")
	if err != nil {
		t.Fatal(err)
	}
	referenceRollups, err := os.ReadFile("testdata/rollups_insert_reference.sql")
	if err != nil {
		t.Fatal(err)
	}
	referenceSQL, err := store.ExpandDimensions("visits_insert_reference", string(reference))
	if err != nil {
		t.Fatal(err)
	}
	referenceSQL = s.expandFragments(referenceSQL, nil)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, spec := range specs {
		t.Run(fmt.Sprintf("%s %s", spec.Granularity, spec.TimeZone), func(t *testing.T) {
			windows, err := spec.Validate()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, s.query("rollups_stage_create")); err != nil {
				t.Fatal(err)
			}
			if err := s.stageVisits(ctx, conn, spec, windows); err != nil {
				t.Fatal(err)
			}
			got := readStage(t, conn)

			if _, err := conn.ExecContext(ctx, s.query("rollups_stage_create")); err != nil {
				t.Fatal(err)
			}
			args := append(rollupArgs(spec, windows, store.TouchedDimensions),
				sql.Named("touched_version", store.TouchedVersion), noGoals)
			if _, err := conn.ExecContext(ctx, referenceSQL, args...); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, string(referenceValues)); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(ctx, string(referenceRollups), rollupArgs(spec, windows, store.RollupDimensions)...); err != nil {
				t.Fatal(err)
			}
			want := readStage(t, conn)
			if len(want.Visits) < 50 || len(want.Values) < 200 || len(want.Rollups) < 30 {
				t.Fatalf("the fixture makes too few visits to test anything: %d visits, %d values, %d rollup rows",
					len(want.Visits), len(want.Values), len(want.Rollups))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stageVisits differs from the rows fragment (-rows fragment +stageVisits):\n%s", diff)
			}
		})
	}
}

func kolkata(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Kolkata") // +05:30: days cut hours in half
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

type stagedVisit struct {
	ID, Window, VisitorKey, SessionID, Visit, Start, Pageviews, Events, Bounce, Duration, EngagedMS int64
	Session                                                                                         map[string]string
	TouchedVersion, Partial, Version                                                                int64
}

type stagedValue struct {
	VisitID                      int64
	Dimension, Value             string
	Pageviews, Events, EngagedMS int64
}

type stagedRollup struct {
	Window                                                            int64
	Dimension, Value                                                  string
	Visitors, Visits, Pageviews, Events, Bounces, Duration, EngagedMS int64
	Partial, Version                                                  int64
}

type stage struct {
	Visits  []stagedVisit
	Values  []stagedValue
	Rollups []stagedRollup
}

func readStage(t *testing.T, conn interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) stage {
	t.Helper()
	ctx := context.Background()
	var out stage
	rows, err := conn.QueryContext(ctx, `SELECT id, window_start, visitor_key, session_id, visit, visit_start, pageviews, events, bounce,
		duration_s, engaged_ms, session, touched_version, partial, run_version FROM temp.visits_stage ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			v       stagedVisit
			session string
		)
		if err := rows.Scan(&v.ID, &v.Window, &v.VisitorKey, &v.SessionID, &v.Visit, &v.Start, &v.Pageviews, &v.Events, &v.Bounce,
			&v.Duration, &v.EngagedMS, &session, &v.TouchedVersion, &v.Partial, &v.Version); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(session), &v.Session); err != nil {
			t.Fatalf("session %q: %v", session, err)
		}
		out.Visits = append(out.Visits, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = conn.QueryContext(ctx, `SELECT visit_id, dimension, value, pageviews, events, engaged_ms
		FROM temp.visit_values_stage ORDER BY visit_id, dimension, value`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v stagedValue
		if err := rows.Scan(&v.VisitID, &v.Dimension, &v.Value, &v.Pageviews, &v.Events, &v.EngagedMS); err != nil {
			t.Fatal(err)
		}
		out.Values = append(out.Values, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	rows, err = conn.QueryContext(ctx, `SELECT window_start, dimension, value, visitors, visits, pageviews, events, bounces,
		duration_s, engaged_ms, partial, run_version FROM temp.rollups_stage ORDER BY window_start, dimension, value`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r stagedRollup
		if err := rows.Scan(&r.Window, &r.Dimension, &r.Value, &r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces,
			&r.Duration, &r.EngagedMS, &r.Partial, &r.Version); err != nil {
			t.Fatal(err)
		}
		out.Rollups = append(out.Rollups, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
