package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/store"

	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/storetest"
)

// TestConformance runs the shared suite on a real SQLite file per subtest.
func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return Open(t) })
}

// Open returns a migrated store in a temporary file, closed at cleanup.
func Open(t *testing.T) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func TestConsentSQLite(t *testing.T) {
	storetest.RunConsent(t, func(t *testing.T) storetest.ConsentBackend { return Open(t) })
}

func TestVisitsSQLite(t *testing.T) {
	storetest.RunVisits(t, func(t *testing.T) storetest.VisitBackend { return Open(t) })
}

func TestSaltsSQLite(t *testing.T) {
	storetest.RunSalts(t, func(t *testing.T) storetest.SaltBackend { return Open(t) })
}

func TestRollupsSQLite(t *testing.T) {
	storetest.RunRollups(t, func(t *testing.T) storetest.RollupBackend { return Open(t) })
}

func TestFiltersSQLite(t *testing.T) {
	storetest.RunFilters(t, func(t *testing.T) storetest.FilterBackend { return Open(t) })
}

func TestSketchesSQLite(t *testing.T) {
	storetest.RunSketches(t, func(t *testing.T) storetest.SketchBackend { return Open(t) })
}

func TestRetentionSQLite(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storetest.RetentionBackend { return Open(t) })
}

func TestAccessSQLite(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T) storetest.AccessBackend { return Open(t) })
}

func TestTOTPSQLite(t *testing.T) {
	storetest.RunTOTP(t, Open(t))
}

func TestSiteGoalsSQLite(t *testing.T) {
	storetest.RunSiteGoals(t, func(t *testing.T) storetest.SiteGoalsBackend { return Open(t) })
}

func TestNotesSQLite(t *testing.T) {
	storetest.RunNotes(t, func(t *testing.T) storetest.NotesBackend { return Open(t) })
}

func TestShareLinksSQLite(t *testing.T) {
	storetest.RunShareLinks(t, func(t *testing.T) storetest.ShareLinkBackend { return Open(t) })
}

func TestAuditSQLite(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditBackend { return Open(t) })
}

// The audit log refuses changes and deletions.
func TestAuditLogIsAppendOnly(t *testing.T) {
	s := Open(t)
	ctx := context.Background()
	if err := s.AppendAudit(ctx, store.AuditEntry{Time: time.Now(), Actor: "cli", Action: "config", Detail: "{}"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{"UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"} {
		if _, err := db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: got %v, want the append-only refusal", stmt, err)
		}
	}
}

func TestSubjectsSQLite(t *testing.T) {
	storetest.RunSubjects(t, func(t *testing.T) storetest.SubjectBackend { return Open(t) })
}

func TestPolicyVersionsSQLite(t *testing.T) {
	storetest.RunPolicyVersions(t, func(t *testing.T) storetest.PolicyBackend { return Open(t) })
}

// Finding 9 of #16: the database holds keys, salts, password hashes and raw
// IPs: the file, its -wal and -shm, and the folder Open creates are the
// owner's only, and an older file readable by others is tightened.
func TestFilesAreOwnerOnly(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "footfall-data")
	path := filepath.Join(dir, "footfall.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSite(ctx, "example.test"); err != nil { // the WAL and its index exist while open
		t.Fatal(err)
	}
	mode := func(p string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Mode().Perm()
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if got := mode(p); got != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), got)
		}
	}
	if got := mode(dir); got != 0o700 {
		t.Errorf("folder: mode %v, want 0700", got)
	}
	s.Close()

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := mode(path); got != 0o600 {
		t.Errorf("an existing 0644 file: mode %v after Open, want 0600", got)
	}
}

func TestReportsSQLite(t *testing.T) {
	storetest.RunReports(t, func(t *testing.T) storetest.ReportBackend { return Open(t) })
}

func TestPropsSQLite(t *testing.T) {
	storetest.RunProps(t, func(t *testing.T) storetest.PropsBackend { return Open(t) })
}

func TestGoalRevenueSQLite(t *testing.T) {
	storetest.RunGoalRevenue(t, func(t *testing.T) storetest.RevenueBackend { return Open(t) })
}

func TestScrollDepthSQLite(t *testing.T) {
	storetest.RunScrollDepth(t, func(t *testing.T) storetest.PropsBackend { return Open(t) })
}

func TestGoalsSQLite(t *testing.T) {
	storetest.RunGoals(t, func(t *testing.T) storetest.PropsBackend { return Open(t) })
}

func TestFunnelsSQLite(t *testing.T) {
	storetest.RunFunnels(t, func(t *testing.T) storetest.PropsBackend { return Open(t) })
}

func TestVisitPropsSQLite(t *testing.T) {
	storetest.RunVisitProps(t, func(t *testing.T) storetest.VisitBackend { return Open(t) })
}

func TestFunnelsFromVisitsSQLite(t *testing.T) {
	storetest.RunFunnelsFromVisits(t, func(t *testing.T) storetest.VisitBackend { return Open(t) })
}

func TestVisitGoalsSQLite(t *testing.T) {
	storetest.RunVisitGoals(t, func(t *testing.T) storetest.VisitBackend { return Open(t) })
}
