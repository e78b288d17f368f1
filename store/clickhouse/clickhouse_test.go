package clickhouse_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/storetest"
)

func TestMain(m *testing.M) {
	os.Exit(chtest.Main(m))
}

// open opens a store on a fresh migrated database, closed when t ends.
func open(t *testing.T) *clickhouse.Store { return openOpts(t, chtest.NewDatabase(t)) }

func openOpts(t *testing.T, opts clickhouse.Options) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformanceClickHouse(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return open(t) })
}

func TestSaltsClickHouse(t *testing.T) {
	storetest.RunSalts(t, func(t *testing.T) storetest.SaltBackend { return open(t) })
}

func TestSketchesClickHouse(t *testing.T) {
	storetest.RunSketches(t, func(t *testing.T) storetest.SketchBackend { return open(t) })
}

func TestRetentionClickHouse(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storetest.RetentionBackend { return open(t) })
}

func TestSiteGoalsClickHouse(t *testing.T) {
	storetest.RunSiteGoals(t, func(t *testing.T) storetest.SiteGoalsBackend { return open(t) })
}

func TestNotesClickHouse(t *testing.T) {
	storetest.RunNotes(t, func(t *testing.T) storetest.NotesBackend { return open(t) })
}

func TestShareLinksClickHouse(t *testing.T) {
	storetest.RunShareLinks(t, func(t *testing.T) storetest.ShareLinkBackend { return open(t) })
}

func TestAuditClickHouse(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditBackend { return open(t) })
}

func TestSubjectsClickHouse(t *testing.T) {
	storetest.RunSubjects(t, func(t *testing.T) storetest.SubjectBackend { return open(t) })
}

func TestPolicyVersionsClickHouse(t *testing.T) {
	storetest.RunPolicyVersions(t, func(t *testing.T) storetest.PolicyBackend { return open(t) })
}

func TestFiltersClickHouse(t *testing.T) {
	storetest.RunFilters(t, func(t *testing.T) storetest.FilterBackend { return open(t) })
}

func TestVisitsClickHouse(t *testing.T) {
	storetest.RunVisits(t, func(t *testing.T) storetest.VisitBackend { return open(t) })
}

func TestConsentClickHouse(t *testing.T) {
	storetest.RunConsent(t, func(t *testing.T) storetest.ConsentBackend { return open(t) })
}

// TestOpenDoesNotCreateAnExistingDatabase: opening an existing database
// with CreateDatabase sends no CREATE DATABASE, which in cluster mode
// would wait for every replica's DDL queue. An unknown cluster name
// would fail that statement.
func TestOpenDoesNotCreateAnExistingDatabase(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	opts.CreateDatabase = true
	opts.Cluster = "no_such_cluster"
	s, err := clickhouse.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open of an existing database: %v", err)
	}
	s.Close()
}

// TestMigrateFresh checks the first Migrate on an empty database: it applies
// every migration (on 18.16 that needs the LowCardinality setting, which must
// not be sent to 19+), records them, and a second run applies none.
func TestMigrateFresh(t *testing.T) {
	ctx := context.Background()
	s, err := clickhouse.Open(ctx, chtest.NewEmptyDatabase(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()

	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("Migrate on ClickHouse %s: %v", s.ServerVersion(), err)
	}
	if len(applied) == 0 {
		t.Fatal("first Migrate applied nothing")
	}
	recorded, err := s.Migrations(ctx)
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	type version struct {
		Version int
		Name    string
	}
	var want, got []version
	for _, m := range applied {
		want = append(want, version{m.Version, m.Name})
	}
	for _, m := range recorded {
		got = append(got, version{m.Version, m.Name})
		if m.AppliedAt.IsZero() || m.AppliedAt.Location() != time.UTC {
			t.Errorf("migration %d applied at %v, want a UTC time", m.Version, m.AppliedAt)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema_migrations (-applied +recorded):\n%s", diff)
	}
	again, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second Migrate applied %d migrations, want 0", len(again))
	}
}

func TestOpenMissingDatabase(t *testing.T) {
	opts := chtest.NewDatabase(t)
	opts.Database += "_missing"
	s, err := clickhouse.Open(context.Background(), opts)
	if err == nil {
		s.Close()
		t.Fatal("Open of a missing database: got no error")
	}
	if !errors.Is(err, clickhouse.ErrNoDatabase) {
		t.Errorf("Open error %q is not ErrNoDatabase", err)
	}
	for _, want := range []string{opts.Addr[0], opts.Database, "footfall migrate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open error %q does not mention %q", err, want)
		}
	}
}

func TestOpenClosedPort(t *testing.T) {
	// A port that was free a moment ago is, almost surely, still closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := clickhouse.Open(ctx, clickhouse.Options{Addr: []string{addr}, DialTimeout: time.Second})
	if err == nil {
		s.Close()
		t.Fatalf("Open(%s): got no error", addr)
	}
	if want := "clickhouse at " + addr + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Open error %q does not start with %q", err, want)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Open error %q does not give the cause (connection refused)", err)
	}
}

func TestOpenInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts clickhouse.Options
		want string
	}{
		{"no address", clickhouse.Options{}, "no address"},
		{"bad database", clickhouse.Options{Addr: []string{"127.0.0.1:9000"}, Database: "x; DROP"}, `database name "x; DROP"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clickhouse.Open(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPageviewCountsUnknownDimension(t *testing.T) {
	s := open(t)
	_, err := s.PageviewCounts(context.Background(), store.CountQuery{SiteID: 1, By: "country"})
	if err == nil || !strings.Contains(err.Error(), `unknown dimension "country"`) {
		t.Errorf("got error %v, want unknown dimension", err)
	}
}

func TestInsertEventsUnknownType(t *testing.T) {
	s := open(t)
	err := s.InsertEvents(context.Background(), []store.Event{{SiteID: 1, Type: "bogus"}})
	if err == nil || !strings.Contains(err.Error(), `unknown type "bogus"`) {
		t.Errorf("got error %v, want unknown type", err)
	}
}

func TestSiteByDomainNotFound(t *testing.T) {
	s := open(t)
	_, err := s.SiteByDomain(context.Background(), "missing.example")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want clickhouse.Options
	}{
		{
			name: "host and database",
			dsn:  "clickhouse://127.0.0.1:9000/footfall",
			want: clickhouse.Options{Addr: []string{"127.0.0.1:9000"}, Database: "footfall"},
		},
		{
			name: "everything",
			dsn:  "clickhouse://writer:s%40cret@ch1:9000,ch2:9001/analytics?dial_timeout=2s&read_timeout=30s",
			want: clickhouse.Options{
				Addr:     []string{"ch1:9000", "ch2:9001"},
				Database: "analytics", Username: "writer", Password: "s@cret",
				DialTimeout: 2 * time.Second, ReadTimeout: 30 * time.Second,
			},
		},
		{
			name: "default port and database",
			dsn:  "clickhouse://localhost",
			want: clickhouse.Options{Addr: []string{"localhost:9000"}},
		},
		{
			name: "user without password",
			dsn:  "clickhouse://reader@localhost:9000/",
			want: clickhouse.Options{Addr: []string{"localhost:9000"}, Username: "reader"},
		},
		{
			name: "ipv6",
			dsn:  "clickhouse://[::1]:9000,[2001:db8::1]/db_1",
			want: clickhouse.Options{Addr: []string{"[::1]:9000", "[2001:db8::1]:9000"}, Database: "db_1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := withDefaults(tt.want)
			got, err := clickhouse.ParseDSN(tt.dsn)
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tt.dsn, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseDSN(%q) (-want +got):\n%s", tt.dsn, diff)
			}
		})
	}
}

// withDefaults fills the fields ParseDSN defaults when the DSN leaves them out.
func withDefaults(o clickhouse.Options) clickhouse.Options {
	if o.Database == "" {
		o.Database = "footfall"
	}
	if o.Username == "" {
		o.Username = "default"
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 3 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 60 * time.Second
	}
	return o
}

func TestParseDSNErrors(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want string // a part of the error
	}{
		{"http scheme", "http://localhost:8123/footfall", `scheme "http"`},
		{"no scheme", "localhost:9000", "want clickhouse://"},
		{"no host", "clickhouse:///footfall", "no host"},
		{"no host after user", "clickhouse://user:pw@/footfall", "no host"},
		{"empty host in list", "clickhouse://a:9000,,b:9000/db", "empty host"},
		{"bad port", "clickhouse://localhost:http/db", `port "http"`},
		{"port out of range", "clickhouse://localhost:70000/db", `port "70000"`},
		{"bad dial timeout", "clickhouse://localhost/db?dial_timeout=soon", `dial_timeout: "soon"`},
		{"negative read timeout", "clickhouse://localhost/db?read_timeout=-1s", "read_timeout: -1s is not positive"},
		{"unknown parameter", "clickhouse://localhost/db?compress=lz4", `unknown parameter "compress"`},
		{"database with a dash", "clickhouse://localhost/foot-fall", `database name "foot-fall"`},
		{"database with a path", "clickhouse://localhost/a/b", `database name "a/b"`},
		{"database with a quote", "clickhouse://localhost/a%60b", `database name "a%60b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := clickhouse.ParseDSN(tt.dsn)
			if err == nil {
				t.Fatalf("ParseDSN(%q) = %+v, want an error containing %q", tt.dsn, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseDSN(%q) error %q, want one containing %q", tt.dsn, err, tt.want)
			}
		})
	}
}

func TestParseDSNHidesPassword(t *testing.T) {
	_, err := clickhouse.ParseDSN("clickhouse://u:hunter2@localhost:bad/db")
	if err == nil {
		t.Fatal("got no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q repeats the password", err)
	}
}

func TestRollupsClickHouse(t *testing.T) {
	// One database for the suite: every subtest works on a site of its own.
	s := open(t)
	storetest.RunRollups(t, func(t *testing.T) storetest.RollupBackend { return s })
}

func TestAccessClickHouse(t *testing.T) {
	// One database for the suite: every subtest works on ids of its own.
	s := open(t)
	storetest.RunAccess(t, func(t *testing.T) storetest.AccessBackend { return s })
}

func TestTOTPClickHouse(t *testing.T) {
	storetest.RunTOTP(t, open(t))
}

func TestReportsClickHouse(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T) storetest.ReportBackend { return open(t) })
}

func TestPropsClickHouse(t *testing.T) {
	storetest.RunProps(t, func(t *testing.T) storetest.PropsBackend { return open(t) })
}

func TestGoalRevenueClickHouse(t *testing.T) {
	storetest.RunGoalRevenue(t, func(t *testing.T) storetest.RevenueBackend { return open(t) })
}

func TestScrollDepthClickHouse(t *testing.T) {
	storetest.RunScrollDepth(t, func(t *testing.T) storetest.PropsBackend { return open(t) })
}

func TestGoalsClickHouse(t *testing.T) {
	storetest.RunGoals(t, func(t *testing.T) storetest.PropsBackend { return open(t) })
}

func TestFunnelsClickHouse(t *testing.T) {
	storetest.RunFunnels(t, func(t *testing.T) storetest.PropsBackend { return open(t) })
}

func TestVisitPropsClickHouse(t *testing.T) {
	storetest.RunVisitProps(t, func(t *testing.T) storetest.VisitBackend { return open(t) })
}

func TestFunnelsFromVisitsClickHouse(t *testing.T) {
	storetest.RunFunnelsFromVisits(t, func(t *testing.T) storetest.VisitBackend { return open(t) })
}

func TestVisitGoalsClickHouse(t *testing.T) {
	storetest.RunVisitGoals(t, func(t *testing.T) storetest.VisitBackend { return open(t) })
}
