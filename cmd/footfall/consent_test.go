package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

// ledgerBackends give a DSN for a fresh store and a way to tamper with
// ledger rows behind Footfall's back: a change of ledger rows (SET or
// DELETE, as a statement's tail) where seq is the argument.
var ledgerBackends = []struct {
	name   string
	open   func(t *testing.T) string
	tamper func(t *testing.T, dsn, change string, seq int)
}{
	{"sqlite",
		func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "footfall.db") },
		func(t *testing.T, dsn, change string, seq int) {
			db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stmt := "UPDATE consent_ledger " + change
			if strings.HasPrefix(change, "DELETE") {
				stmt = "DELETE FROM consent_ledger " + strings.TrimPrefix(change, "DELETE ")
			}
			if _, err := db.Exec(stmt, seq); err != nil {
				t.Fatal(err)
			}
		}},
	{"clickhouse",
		func(t *testing.T) string {
			o := chtest.NewEmptyDatabase(t)
			return fmt.Sprintf("clickhouse://%s@%s/%s", o.Username, o.Addr[0], o.Database)
		},
		func(t *testing.T, dsn, change string, seq int) {
			opts, err := clickhouse.ParseDSN(dsn)
			if err != nil {
				t.Fatal(err)
			}
			conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database, Username: opts.Username}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx := context.Background()
			stmt := "ALTER TABLE consent_ledger " + strings.Replace(change, "SET ", "UPDATE ", 1)
			if err := conn.Exec(ctx, stmt, seq); err != nil {
				t.Fatal(err)
			}
			for {
				var pending uint64
				if err := conn.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0").Scan(&pending); err != nil {
					t.Fatal(err)
				}
				if pending == 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
}

func TestConsentVerifyDetectsTampering(t *testing.T) {
	for _, b := range ledgerBackends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.open(t)
			if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
				t.Fatalf("site add: %s", errOut)
			}
			// The collector signs its chain's head at shutdown into a
			// file apart from the store (#21).
			checkpoints := filepath.Join(t.TempDir(), "checkpoints.jsonl")
			addr, stop := startServe(t, "-store", dsn, "-checkpoints", checkpoints)
			for range 5 {
				grant(t, addr, "example.test")
			}
			stop()

			code, out, errOut := footfall(t, nil, "consent", "verify", "-store", dsn, "-checkpoints", checkpoints)
			if code != 0 || !strings.Contains(out, "example.test: intact (5 records in 1 chains, 1 checkpoints)") {
				t.Fatalf("verify before tampering: exit %d\n%s%s", code, out, errOut)
			}
			// Without the checkpoints, records cut off the chain's end
			// leave no trace; with them, they show.
			b.tamper(t, dsn, "DELETE WHERE seq = ?", 5)
			code, out, errOut = footfall(t, nil, "consent", "verify", "-store", dsn)
			if code != 0 || !strings.Contains(out, "example.test: intact (4 records in 1 chains, 0 checkpoints)") || !strings.Contains(out, "no checkpoint file") {
				t.Fatalf("verify of the cut chain without checkpoints: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = footfall(t, nil, "consent", "verify", "-store", dsn, "-checkpoints", checkpoints)
			if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "truncated: the chain ends at seq 4") {
				t.Fatalf("verify of the cut chain with checkpoints: exit %d\n%s%s", code, out, errOut)
			}
			code, out, _ = footfall(t, nil, "consent", "export", "-store", dsn, "-site", "example.test")
			if code != 0 || strings.Count(out, "\n") != 4 || !strings.Contains(out, `"action":"accept_all"`) || strings.Contains(out, "127.0.0.1") {
				t.Errorf("export: exit %d\n%s", code, out)
			}

			// Finding 9 of #16: -out files name consent ids: owner only.
			outFile := filepath.Join(t.TempDir(), "ledger.jsonl")
			if code, _, errOut := footfall(t, nil, "consent", "export", "-store", dsn, "-site", "example.test", "-out", outFile); code != 0 {
				t.Fatalf("export -out: %s", errOut)
			}
			if fi, err := os.Stat(outFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("export -out file: %v %v, want mode 0600", fi.Mode(), err)
			}

			b.tamper(t, dsn, "SET granted = 1 WHERE seq = ?", 2)
			code, out, errOut = footfall(t, nil, "consent", "verify", "-store", dsn, "-site", "example.test")
			if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "seq 2") {
				t.Errorf("verify after tampering with seq 2: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

func TestConsentKeyRotation(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	_, stop := startServe(t, "-store", dsn) // creates the first key
	stop()
	code, out, _ := footfall(t, nil, "consent", "keys", "-store", dsn)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("keys: exit %d\n%s", code, out)
	}
	first := strings.Fields(lines[1])[0]
	if code, _, errOut := footfall(t, nil, "consent", "retire-key", "-store", dsn, first); code != 1 || !strings.Contains(errOut, "last active key") {
		t.Errorf("retiring the last key: exit %d %s", code, errOut)
	}
	if code, out, _ := footfall(t, nil, "consent", "rotate-key", "-store", dsn); code != 0 || !strings.Contains(out, "new signing key") {
		t.Fatalf("rotate: exit %d %s", code, out)
	}
	if code, _, errOut := footfall(t, nil, "consent", "retire-key", "-store", dsn, first); code != 0 {
		t.Fatalf("retire: exit %d %s", code, errOut)
	}
	code, out, _ = footfall(t, nil, "consent", "keys", "-store", dsn)
	if code != 0 || !strings.Contains(out, first) || !strings.Contains(out, "retired") || strings.Contains(out, "secret") {
		t.Errorf("keys after retirement:\n%s", out)
	}
}

func TestLinkSign(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := footfall(t, nil, "link", "sign", "-store", dsn, "-site", "example.test", "-campaign", "c"); code != 1 || !strings.Contains(errOut, "no signing key") {
		t.Errorf("before any key: exit %d %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn)
	code, out, errOut := footfall(t, nil, "link", "sign", "-store", dsn, "-site", "example.test", "-campaign", "spring",
		"-link", "hero", "-target", "https://example.test/sale", "-consent", "marketing", "-base", "http://"+addr)
	if code != 0 {
		t.Fatalf("link sign: exit %d %s", code, errOut)
	}
	var click string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "click: "); ok {
			click = rest
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(click)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.test/sale" {
		t.Errorf("GET %s: %d %q", click, resp.StatusCode, resp.Header.Get("Location"))
	}
	stop()
	if code, _, errOut := footfall(t, nil, "link", "sign", "-store", dsn, "-site", "example.test", "-campaign", "c", "-consent", "tracking"); code != 2 || !strings.Contains(errOut, "-consent") {
		t.Errorf("bad consent: exit %d %s", code, errOut)
	}
}
