package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
)

func TestRetentionPlan(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	p := retentionPlan(config.Retention{RawEventsDays: 395, RawIPDays: 30, ConsentLedgerDays: 1826}, now)
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"events", p.EventsBefore, time.Date(2025, 10, 31, 10, 0, 0, 0, time.UTC)},
		{"ip", p.IPBefore, time.Date(2026, 10, 31, 10, 0, 0, 0, time.UTC)},
		{"ledger", p.LedgerBefore, time.Date(2021, 11, 30, 10, 0, 0, 0, time.UTC)},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s before %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestRetentionCommand(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	code, out, errOut := footfall(t, nil, "retention", "-store", dsn, "-dry-run")
	if code != 0 || !strings.Contains(out, "would remove 0 raw events, 0 raw IPs, 0 consent ledger records") || !strings.Contains(errOut, "dry_run=true") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := footfall(t, nil, "retention", "-store", dsn); code != 0 || !strings.Contains(out, "removed 0") {
		t.Errorf("run: exit %d %s", code, out)
	}
}

// Administrative commands leave a trace in the audit log, and no secret.
func TestAdminCommandsAreAudited(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	steps := [][]string{
		{"site", "add", "-store", dsn, "example.test"},
		{"token", "create", "-store", dsn, "-role", "analyst"},
		{"retention", "-store", dsn},
	}
	var token string
	for _, s := range steps {
		code, out, errOut := footfall(t, nil, s...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", s, code, errOut)
		}
		if s[0] == "token" {
			token = strings.TrimSpace(out)
		}
	}
	code, out, errOut := footfall(t, nil, "audit", "-store", dsn)
	if code != 0 {
		t.Fatalf("audit: exit %d %s", code, errOut)
	}
	for _, want := range []string{"site_add", "example.test", "token_create", "retention"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit log lacks %q:\n%s", want, out)
		}
	}
	if token == "" || strings.Contains(out, token) || strings.Contains(out, token[len(token)-20:]) {
		t.Errorf("audit log holds the token (or none was made):\n%s", out)
	}
}

// An operator's erasure prints a receipt listing exactly what went, and a
// follow-up access request finds nothing.
func TestEraseAndAccess(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	addr, stop := startServe(t, "-store", dsn)
	token := grant(t, addr, "example.test")
	for i := range 3 {
		body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/%d","user_id":"u-1","token":%q}`, i, token)
		if code := postEvent(t, addr, body); code != 202 {
			t.Fatalf("post: %d", code)
		}
	}
	stop()
	code, out, errOut := footfall(t, nil, "access", "-store", dsn, "-user-id", "u-1")
	if code != 0 || strings.Count(out, `"id":`) != 3 {
		t.Fatalf("access: exit %d, %d events\n%s%s", code, strings.Count(out, `"id":`), out, errOut)
	}
	code, out, errOut = footfall(t, nil, "erase", "-store", dsn, "-user-id", "u-1")
	if code != 0 || !strings.Contains(out, `"erased_events":3`) {
		t.Fatalf("erase: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = footfall(t, nil, "access", "-store", dsn, "-user-id", "u-1")
	if code != 0 || !strings.Contains(out, `"events": []`) {
		t.Errorf("access after erasure: exit %d\n%s", code, out)
	}
	code, out, _ = footfall(t, nil, "audit", "-store", dsn)
	if !strings.Contains(out, "erase") || !strings.Contains(out, "access") {
		t.Errorf("audit log lacks the erasure or the access:\n%s", out)
	}
	if code, _, errOut := footfall(t, nil, "erase", "-store", dsn, "-ip", "203.0.113.5"); code != 2 || !strings.Contains(errOut, "-ip needs -site") {
		t.Errorf("erase -ip without -site: exit %d %s", code, errOut)
	}
}

// footfall aggregate -every enforces retention after each pass.
func TestAggregateEveryEnforcesRetention(t *testing.T) {
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "footfall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site, err := st.SiteByDomain(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().AddDate(0, 0, -400).UTC().Truncate(time.Second)
	if err := st.InsertEvents(ctx, []store.Event{{ID: uuid.New(), SiteID: site.ID, Type: store.Pageview, Time: old, ReceivedAt: old, Host: "example.test", Path: "/old"}}); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"aggregate", "-every", "10s", "-store", dsn}, func(string) string { return "" }, &stderr, &stderr)
	}()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), "msg=retention"); {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no retention after the first pass:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("aggregate -every exit %d:\n%s", code, stderr.String())
	}
	left, err := st.Events(ctx, store.EventQuery{SiteID: site.ID, From: old.Add(-time.Hour), To: old.Add(time.Hour)})
	if err != nil || len(left) != 0 {
		t.Errorf("a 400-day-old event survived aggregate -every: %d (%v)\n%s", len(left), err, stderr.String())
	}
}
