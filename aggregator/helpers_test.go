package aggregator_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// testStore is everything these tests use of a store.
type testStore interface {
	aggregator.Store
	aggregator.CellSource
	storetest.RollupFixtureBackend
	AddSite(ctx context.Context, domain string) (store.Site, error)
	Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error)
	ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error)
}

// eachBackend runs fn on a fresh migrated SQLite file and a fresh
// ClickHouse database.
func eachBackend(t *testing.T, fn func(t *testing.T, st testStore)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t)) })
	t.Run("clickhouse", func(t *testing.T) { fn(t, openClickHouse(t)) })
}

func openSQLite(t testing.TB) *sqlite.Store {
	return sqlitetest.Open(t)
}

func openClickHouse(t testing.TB) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// seeded adds shop.example to st with the rollup fixture's data.
func seeded(t *testing.T, st testStore) (store.Site, storetest.RollupFixture) {
	t.Helper()
	site, err := st.AddSite(context.Background(), "shop.example")
	if err != nil {
		t.Fatal(err)
	}
	f := storetest.LoadRollupFixture(t)
	storetest.SeedRollupFixture(t, st, f, site.ID)
	return site, f
}

// snapshot reads every rollup of a site's first fixture days.
type snapshot struct {
	Hourly, Daily []store.RollupRow
	ConsentHourly []store.ConsentRollupRow
	ConsentDaily  []store.ConsentRollupRow
}

func takeSnapshot(t *testing.T, st testStore, siteID uint32, from, to time.Time) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	for _, x := range []struct {
		g    store.Granularity
		rows *[]store.RollupRow
		cons *[]store.ConsentRollupRow
	}{{store.Hourly, &s.Hourly, &s.ConsentHourly}, {store.Daily, &s.Daily, &s.ConsentDaily}} {
		q := store.RollupQuery{SiteID: siteID, Granularity: x.g, From: from, To: to}
		if *x.rows, err = st.Rollups(ctx, q); err != nil {
			t.Fatal(err)
		}
		if *x.cons, err = st.ConsentRollups(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return s
}
