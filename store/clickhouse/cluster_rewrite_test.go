package clickhouse

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// TestClusterMigration checks the rewrite of migration statements in
// cluster mode, including statements a later migration may hold.
func TestClusterMigration(t *testing.T) {
	c := cluster{name: "prod", database: "ff"}
	tests := []struct {
		name string
		stmt string
		want []string
	}{
		{
			"events sharded by visitor",
			"CREATE TABLE IF NOT EXISTS events\n(\n    a UInt8,\n    visitor_key UInt64\n)\nENGINE = ReplacingMergeTree\nORDER BY (site_id, a)",
			[]string{
				"CREATE TABLE IF NOT EXISTS ff.events_local ON CLUSTER prod\n(\n    a UInt8,\n    visitor_key UInt64\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/ff/events_local', '{replica}')\nORDER BY (site_id, a)",
				"CREATE TABLE IF NOT EXISTS ff.events ON CLUSTER prod AS ff.events_local ENGINE = Distributed('prod', 'ff', 'events_local', cityHash64(visitor_key))",
			},
		},
		{
			"engine arguments kept, sharded by first key column",
			"CREATE TABLE IF NOT EXISTS consent_keys (kid String, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY kid",
			[]string{
				"CREATE TABLE IF NOT EXISTS ff.consent_keys_local ON CLUSTER prod\n(kid String, version UInt64)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/ff/consent_keys_local', '{replica}', version) ORDER BY kid",
				"CREATE TABLE IF NOT EXISTS ff.consent_keys ON CLUSTER prod AS ff.consent_keys_local ENGINE = Distributed('prod', 'ff', 'consent_keys_local', cityHash64(kid))",
			},
		},
		{
			"add column on both tables",
			"ALTER TABLE events ADD COLUMN x UInt8 DEFAULT 0",
			[]string{
				"ALTER TABLE ff.events_local ON CLUSTER prod ADD COLUMN x UInt8 DEFAULT 0",
				"DROP TABLE IF EXISTS ff.events ON CLUSTER prod",
				"CREATE TABLE ff.events ON CLUSTER prod AS ff.events_local ENGINE = Distributed('prod', 'ff', 'events_local', cityHash64(visitor_key))",
			},
		},
		{
			"a mutation on the local table only",
			"ALTER TABLE events UPDATE x = 1 WHERE 1",
			[]string{"ALTER TABLE ff.events_local ON CLUSTER prod UPDATE x = 1 WHERE 1"},
		},
		{
			"rename swaps the local tables and re-creates the Distributed ones",
			"RENAME TABLE visits TO visits_unsampled, visits_sampled TO visits",
			[]string{
				"RENAME TABLE ff.visits_local TO ff.visits_unsampled_local, ff.visits_sampled_local TO ff.visits_local ON CLUSTER prod",
				"DROP TABLE IF EXISTS ff.visits ON CLUSTER prod",
				"DROP TABLE IF EXISTS ff.visits_unsampled ON CLUSTER prod",
				"DROP TABLE IF EXISTS ff.visits_sampled ON CLUSTER prod",
				"CREATE TABLE ff.visits_unsampled ON CLUSTER prod AS ff.visits_unsampled_local ENGINE = Distributed('prod', 'ff', 'visits_unsampled_local', cityHash64(visitor_key))",
				"CREATE TABLE ff.visits ON CLUSTER prod AS ff.visits_local ENGINE = Distributed('prod', 'ff', 'visits_local', cityHash64(visitor_key))",
			},
		},
		{
			"insert select through the Distributed tables",
			"INSERT INTO visits_sampled (a, b)\nSELECT a, b FROM visits",
			[]string{"INSERT INTO visits_sampled (a, b)\nSELECT a, b FROM visits"},
		},
		{
			"drop both",
			"DROP TABLE IF EXISTS old",
			[]string{"DROP TABLE IF EXISTS ff.old ON CLUSTER prod", "DROP TABLE IF EXISTS ff.old_local ON CLUSTER prod"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.migration(tt.stmt)
			if err != nil {
				t.Fatalf("migration: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rewrite (-want +got):\n%s", diff)
			}
			single, err := cluster{database: "ff"}.migration(tt.stmt)
			if err != nil || len(single) != 1 || single[0] != tt.stmt {
				t.Errorf("without a cluster: got %q, %v; want the statement unchanged", single, err)
			}
		})
	}
	for _, stmt := range []string{
		"CREATE MATERIALIZED VIEW mv TO t AS SELECT 1",
		"RENAME TABLE visits TO other.visits",
		"RENAME TABLE nosuchtable TO t",
		"INSERT INTO t SELECT 1",
	} {
		if _, err := c.migration(stmt); err == nil || !strings.Contains(err.Error(), "cannot") {
			t.Errorf("%q: got %v, want a refusal", stmt, err)
		}
	}
}

// TestClusterMigrationsEmbedded rewrites every embedded migration, so a
// migration added later that cluster mode cannot handle fails here.
func TestClusterMigrationsEmbedded(t *testing.T) {
	c := cluster{name: "prod", database: "ff"}
	for _, q := range []string{qCreateSchemaMigrations} {
		if _, err := c.migration(q); err != nil {
			t.Error(err)
		}
	}
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range store.SplitStatements(string(body)) {
			if _, err := c.migration(stmt); err != nil {
				t.Errorf("%s: %v", e.Name(), err)
			}
		}
	}
}

func TestClusterAlter(t *testing.T) {
	c := cluster{name: "prod", database: "ff"}
	for _, q := range []string{qRollupsDelete, qEventsEraseByConsent, qSaltsDeleteBefore, qRetentionDropEvents, qRetentionClearIPs, qAuthSessionsDeleteBefore} {
		got := c.alter(q)
		if !strings.Contains(got, "_local ON CLUSTER prod ") || !strings.Contains(got, "ALTER TABLE ff.") {
			t.Errorf("alter(%q) = %q, want the local table ON CLUSTER", q, got)
		}
		if same := (cluster{database: "ff"}).alter(q); same != q {
			t.Errorf("without a cluster: alter changed %q to %q", q, same)
		}
	}
}

func TestParseDSNCluster(t *testing.T) {
	opts, err := ParseDSN("clickhouse://u:p@a:9000,b/db?cluster=prod")
	if err != nil {
		t.Fatalf("ParseDSN: %v", err)
	}
	if opts.Cluster != "prod" {
		t.Errorf("Cluster = %q, want prod", opts.Cluster)
	}
	if settings := opts.chOptions("db").Settings; settings["insert_distributed_sync"] != 1 {
		t.Errorf("settings %v, want insert_distributed_sync=1", settings)
	}
	if _, err := ParseDSN("clickhouse://a/db?cluster=x-y"); err == nil || !strings.Contains(err.Error(), "cluster") {
		t.Errorf("bad cluster name: got %v, want an error", err)
	}
	if settings := (Options{}).chOptions("db").Settings; len(settings) != 0 {
		t.Errorf("without a cluster: settings %v, want none", settings)
	}
}
