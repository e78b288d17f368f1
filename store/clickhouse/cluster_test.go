package clickhouse_test

import (
	"context"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/storetest"
)

// TestClusterMatchesSingleNode runs Footfall in cluster mode on a throwaway
// cluster of 2 shards × 2 replicas (ClickHouse 18.16 and ZooKeeper on
// loopback): it migrates ON CLUSTER, inserts the rollup fixture through the
// Distributed tables, aggregates it, erases a consent's events and deletes
// salts (mutations ON CLUSTER on the local tables), and checks that every
// answer (rollups, visit rows, filtered and sampled visit breakdowns,
// visitor sketches) equals a single-node store's on the same data, that
// both shards hold events and that each shard's replicas hold the same
// rows.
func TestClusterMatchesSingleNode(t *testing.T) {
	ctx := context.Background()
	c := chtest.NewCluster(t, 2, 2)
	single := open(t)
	clustered := openOpts(t, clickhouse.Options{
		Addr: c.Addrs[0][:1], Database: "footfall_cluster", Cluster: c.Name, CreateDatabase: true,
		ReadTimeout: 2 * time.Minute,
	})
	start := time.Now()
	if _, err := clustered.Migrate(ctx); err != nil {
		t.Fatalf("Migrate ON CLUSTER: %v", err)
	}
	t.Logf("migrate ON CLUSTER took %v", time.Since(start).Round(time.Millisecond))
	if applied, err := clustered.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate: applied %v, err %v; want none", applied, err)
	}

	f := storetest.LoadRollupFixture(t)
	siteOf := map[*clickhouse.Store]uint32{}
	for _, s := range []*clickhouse.Store{single, clustered} {
		site, err := s.AddSite(ctx, "cluster.example")
		if err != nil {
			t.Fatalf("AddSite: %v", err)
		}
		siteOf[s] = site.ID
		storetest.SeedRollupFixture(t, s, f, site.ID)
	}

	// Every shard holds some events, and replicas agree.
	var total uint64
	for i, shard := range c.Addrs {
		var counts []uint64
		for _, addr := range shard {
			counts = append(counts, countLocal(t, addr, "footfall_cluster", "events_local"))
		}
		if counts[0] == 0 {
			t.Errorf("shard %d holds no events: not sharded", i+1)
		}
		for j, n := range counts[1:] {
			if n != counts[0] {
				t.Errorf("shard %d: replica %d holds %d events, replica 1 %d", i+1, j+2, n, counts[0])
			}
		}
		total += counts[0]
	}
	if total != uint64(len(f.Events)) {
		t.Errorf("shards hold %d events together, want %d", total, len(f.Events))
	}

	compare := func(t *testing.T) {
		t.Helper()
		from, to := f.Cases[0].From.Add(-48*time.Hour), f.Cases[0].To.Add(72*time.Hour)
		for _, by := range []store.Dimension{store.ByDay, store.ByPath, store.ByReferrerHost} {
			want, err := single.PageviewCounts(ctx, store.CountQuery{SiteID: siteOf[single], From: from, To: to, By: by})
			if err != nil {
				t.Fatalf("single PageviewCounts: %v", err)
			}
			got, err := clustered.PageviewCounts(ctx, store.CountQuery{SiteID: siteOf[clustered], From: from, To: to, By: by})
			if err != nil {
				t.Fatalf("cluster PageviewCounts: %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PageviewCounts by %s (-single +cluster):\n%s", by, diff)
			}
		}
	}
	compare(t)

	var visitRows, breakdownRows int // compared, so the comparison is not of nothing
	for _, rc := range f.Cases {
		for run := uint64(1); run <= 2; run++ { // the second run deletes the first's rows
			for _, s := range []*clickhouse.Store{single, clustered} {
				if _, err := s.ReplaceRollups(ctx, rc.Spec(siteOf[s], run)); err != nil {
					t.Fatalf("%s: ReplaceRollups run %d: %v", rc.Name, run, err)
				}
			}
		}
		want, wantConsent := rc.WithSite(siteOf[clustered])
		got, err := clustered.Rollups(ctx, rc.Query(siteOf[clustered]))
		if err != nil {
			t.Fatalf("%s: Rollups: %v", rc.Name, err)
		}
		gotConsent, err := clustered.ConsentRollups(ctx, rc.Query(siteOf[clustered]))
		if err != nil {
			t.Fatalf("%s: ConsentRollups: %v", rc.Name, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: cluster rollups (-want +got):\n%s", rc.Name, diff)
		}
		if diff := cmp.Diff(wantConsent, gotConsent, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: cluster consent rollups (-want +got):\n%s", rc.Name, diff)
		}
		// The visit rows: built on the shard of their visitor's events,
		// the same rows and the same filtered answers as on one node.
		q := rc.Query(siteOf[clustered])
		wantVisits, err := single.Visits(ctx, rc.Query(siteOf[single]))
		if err != nil {
			t.Fatalf("%s: single Visits: %v", rc.Name, err)
		}
		gotVisits, err := clustered.Visits(ctx, q)
		if err != nil {
			t.Fatalf("%s: cluster Visits: %v", rc.Name, err)
		}
		for i := range wantVisits {
			wantVisits[i].SiteID = siteOf[clustered]
		}
		visitRows += len(wantVisits)
		if diff := cmp.Diff(wantVisits, gotVisits, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: cluster visit rows (-single +cluster):\n%s", rc.Name, diff)
		}
		for _, vq := range []store.VisitQuery{
			{Dimension: store.DimPage, Filters: []store.Filter{{Dim: "country", Op: "==", Value: "DE"}}},
			{Dimension: "source", Filters: []store.Filter{{Dim: store.DimPage, Op: "!=", Value: "/pricing"}}},
			// Sampled: each shard keeps the same visitors by
			// intHash32(visitor_key), so the sample is a single node's.
			{Dimension: "source", Sample: 2},
		} {
			vq.Granularity, vq.From, vq.To = q.Granularity, q.From, q.To
			breakdownRows += sameRows(t, rc.Name+": VisitBreakdown by "+vq.Dimension, single, clustered, siteOf,
				func(s *clickhouse.Store, site uint32) ([]store.RollupRow, error) {
					vq.SiteID = site
					return s.VisitBreakdown(ctx, vq)
				})
		}
	}

	// The visitor sketches, made from the visit rows on each shard and
	// merged through the Distributed table, count what one node's do.
	var sketchRows int
	for _, rc := range f.Cases {
		q := rc.Query(siteOf[single])
		sketchRows += sameRows(t, rc.Name+": SketchVisitors", single, clustered, siteOf,
			func(s *clickhouse.Store, site uint32) ([]store.RollupRow, error) {
				return s.SketchVisitors(ctx, store.VisitQuery{SiteID: site, Granularity: q.Granularity, Dimension: store.DimTotal, From: q.From, To: q.To})
			})
	}
	if sketchRows == 0 {
		t.Error("no sketch rows compared")
	}
	if visitRows == 0 || breakdownRows == 0 {
		t.Errorf("compared %d visit rows and %d breakdown rows: the fixture's cases make none", visitRows, breakdownRows)
	}
	t.Logf("cluster: %d visit rows and %d filtered breakdown rows equal a single node's", visitRows, breakdownRows)

	// Erasure: a mutation on events_local ON CLUSTER, awaited on every node.
	victim := f.Events[0].ConsentID
	for _, s := range []*clickhouse.Store{single, clustered} {
		if _, err := s.EraseEventsByConsent(ctx, victim); err != nil {
			t.Fatalf("EraseEventsByConsent: %v", err)
		}
		left, err := s.EventsByConsent(ctx, victim)
		if err != nil {
			t.Fatalf("EventsByConsent: %v", err)
		}
		if len(left) != 0 {
			t.Errorf("%d events of an erased consent remain", len(left))
		}
	}
	compare(t)

	// Salts: inserted through the Distributed table, deleted ON CLUSTER.
	if err := clustered.DeleteSaltsBefore(ctx, time.Now().AddDate(0, 0, 1)); err != nil {
		t.Fatalf("DeleteSaltsBefore: %v", err)
	}
	if err := clustered.DeleteSessionsBefore(ctx, time.Now()); err != nil {
		t.Fatalf("DeleteSessionsBefore: %v", err)
	}
}

// sameRows asks the single node and the cluster the same question, each of
// its own site, reports any difference between the answers and returns
// how many rows were compared.
func sameRows(t *testing.T, what string, single, clustered *clickhouse.Store, siteOf map[*clickhouse.Store]uint32,
	ask func(s *clickhouse.Store, site uint32) ([]store.RollupRow, error)) int {
	t.Helper()
	want, err := ask(single, siteOf[single])
	if err != nil {
		t.Fatalf("%s on one node: %v", what, err)
	}
	got, err := ask(clustered, siteOf[clustered])
	if err != nil {
		t.Fatalf("%s on the cluster: %v", what, err)
	}
	for i := range want {
		want[i].SiteID = siteOf[clustered]
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s (-single +cluster):\n%s", what, diff)
	}
	return len(want)
}

// countLocal counts a table's rows on one server only.
func countLocal(t *testing.T, addr, database, table string) uint64 {
	t.Helper()
	ctx := context.Background()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatalf("open %s: %v", addr, err)
	}
	defer conn.Close()
	// Replicas fetch parts in the background; wait until this one has.
	if err := conn.Exec(ctx, "SYSTEM SYNC REPLICA "+database+"."+table); err != nil {
		t.Fatalf("sync replica %s on %s: %v", table, addr, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+database+"."+table).Scan(&n); err != nil {
		t.Fatalf("count %s on %s: %v", table, addr, err)
	}
	return n
}
