package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/web/auth"
)

// TestSeedDemo: serve -demo fills an empty store once, aggregates it, and
// prints a working admin login; a second start adds no data and prints a
// new password.
func TestSeedDemo(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	password := regexp.MustCompile(`password: (\S+)`)
	var logins []string
	var counts []uint64
	for range 2 {
		var out bytes.Buffer
		if err := seedDemo(ctx, st, &out, "127.0.0.1:8080", log); err != nil {
			t.Fatal(err)
		}
		m := password.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no password in %q", out.String())
		}
		logins = append(logins, m[1])
		site, err := st.SiteByDomain(ctx, aggregator.DemoDomain)
		if err != nil {
			t.Fatal(err)
		}
		n, err := st.DistinctVisitors(ctx, store.VisitorQuery{SiteID: site.ID, From: time.Now().AddDate(0, 0, -31), To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, n)
		rows, err := st.Rollups(ctx, store.RollupQuery{SiteID: site.ID, Granularity: store.Daily, From: time.Now().AddDate(0, 0, -31), To: time.Now().Add(24 * time.Hour)})
		if err != nil || len(rows) == 0 {
			t.Fatalf("no daily rollups after -demo: %d rows, %v", len(rows), err)
		}
	}
	if counts[0] < 1000 || counts[0] != counts[1] {
		t.Errorf("visitors after each start: %v, want over 1000 and unchanged", counts)
	}
	if logins[0] == logins[1] {
		t.Error("the second start printed the same password")
	}
	u, err := st.UserByEmail(ctx, demoAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != string(auth.RoleAdmin) {
		t.Errorf("demo user role: got %q, want admin", u.Role)
	}
	if ok, err := auth.VerifyPassword(u.PasswordHash, logins[1]); !ok || err != nil {
		t.Errorf("the printed password does not sign in: %v %v", ok, err)
	}
}
