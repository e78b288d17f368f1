package clickhouse_test

import (
	"context"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/storetest"
)

// TestMigrateVisitsSampleKey runs migration 044 on a database that an older
// release left with visit rows: the table without a sampling key, rows of
// the rollup fixture's windows, and the debris of an earlier attempt that
// failed half-way. After it the same rows answer, the table takes SAMPLE,
// and re-aggregating a window writes its rows into the new table.
func TestMigrateVisitsSampleKey(t *testing.T) {
	ctx := context.Background()
	opts := chtest.NewEmptyDatabase(t)
	s := openOpts(t, opts)
	if _, err := s.MigrateTo(ctx, 43); err != nil {
		t.Fatalf("migrate to 043: %v", err)
	}
	conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer conn.Close()
	sampled := func() (uint64, error) {
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM visits SAMPLE 1/2").Scan(&n)
		return n, err
	}
	if _, err := sampled(); err == nil {
		t.Fatal("SAMPLE on the visits table of 043 works; the test does not start from the old schema")
	}

	site, err := s.AddSite(ctx, "sample.example")
	if err != nil {
		t.Fatalf("AddSite: %v", err)
	}
	f := storetest.LoadRollupFixture(t)
	storetest.SeedRollupFixture(t, s, f, site.ID)
	before := map[string][]store.Visit{}
	var rows int
	for _, rc := range f.Cases {
		if _, err := s.ReplaceRollups(ctx, rc.Spec(site.ID, 1)); err != nil {
			t.Fatalf("%s: ReplaceRollups: %v", rc.Name, err)
		}
	}
	for _, rc := range f.Cases {
		vs, err := s.Visits(ctx, rc.Query(site.ID))
		if err != nil {
			t.Fatalf("%s: Visits: %v", rc.Name, err)
		}
		before[rc.Name] = vs
		rows += len(vs)
	}
	if rows == 0 {
		t.Fatal("the fixture's windows made no visit rows")
	}
	// An attempt that failed after creating its table left it behind.
	if err := conn.Exec(ctx, "CREATE TABLE visits_sampled (x UInt8) ENGINE = TinyLog"); err != nil {
		t.Fatalf("leftover table: %v", err)
	}

	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	var versions []int
	for _, m := range applied {
		versions = append(versions, m.Version)
	}
	if len(versions) == 0 || versions[0] != 44 {
		t.Fatalf("Migrate applied %v, want 044 first", versions)
	}
	check := func(when string) {
		t.Helper()
		for _, rc := range f.Cases {
			got, err := s.Visits(ctx, rc.Query(site.ID))
			if err != nil {
				t.Fatalf("%s: Visits %s: %v", rc.Name, when, err)
			}
			if diff := cmp.Diff(before[rc.Name], got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: visit rows %s (-before +after):\n%s", rc.Name, when, diff)
			}
		}
	}
	check("after the migration")
	// The rows keep what their touched values hold (migration 042).
	var minVersion uint8
	if err := conn.QueryRow(ctx, "SELECT min(touched_version) FROM visits").Scan(&minVersion); err != nil || minVersion != store.TouchedVersion {
		t.Errorf("touched_version after the migration: %d, %v; want %d", minVersion, err, store.TouchedVersion)
	}
	var all uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM visits").Scan(&all); err != nil {
		t.Fatalf("count: %v", err)
	}
	if n, err := sampled(); err != nil || n > all {
		t.Errorf("SAMPLE 1/2 after the migration: %d rows of %d, %v; want a sample", n, all, err)
	}
	for _, table := range []string{"visits_sampled", "visits_unsampled"} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = ?", table).Scan(&n); err != nil || n != 0 {
			t.Errorf("table %s after the migration: %d, %v; want it gone", table, n, err)
		}
	}

	// The visit rows are rebuilt by aggregating the windows again.
	if err := conn.Exec(ctx, "TRUNCATE TABLE visits"); err != nil {
		t.Fatalf("truncate: %v", err)
	}
	rc := f.Cases[0]
	if m, err := s.WindowsMissing(ctx, rc.Query(site.ID)); err != nil || !m.Visits {
		t.Fatalf("WindowsMissing with no visit rows: %+v, %v; want the visit rows missing", m, err)
	}
	for _, rc := range f.Cases {
		if _, err := s.ReplaceRollups(ctx, rc.Spec(site.ID, 2)); err != nil {
			t.Fatalf("%s: ReplaceRollups again: %v", rc.Name, err)
		}
	}
	check("re-aggregated")
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Errorf("second Migrate: applied %d, %v; want none", len(again), err)
	}
}
