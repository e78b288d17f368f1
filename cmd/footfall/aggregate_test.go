package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/storetest"
)

// fixtureStore is a SQLite file holding the rollup fixture under
// shop.example, and its -store value.
func fixtureStore(t *testing.T) (string, *sqlite.Store, store.Site) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.db")
	dsn := "sqlite:" + path
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "shop.example"); code != 0 {
		t.Fatalf("site add: %s", errOut)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	site, err := st.SiteByDomain(ctx, "shop.example")
	if err != nil {
		t.Fatal(err)
	}
	storetest.SeedRollupFixture(t, st, storetest.LoadRollupFixture(t), site.ID)
	return dsn, st, site
}

func TestAggregateRecomputeWithProgressLines(t *testing.T) {
	dsn, st, site := fixtureStore(t)
	code, out, errOut := footfall(t, nil, "aggregate", "-store", dsn, "-from", "2026-03-14", "-to", "2026-03-15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Not a terminal: one plain line per job, the last one n/n.
	lines := regexp.MustCompile(`(?m)^aggregate: (\d+)/(\d+) shop\.example (hour|day) .* ok$`).FindAllStringSubmatch(errOut, -1)
	if len(lines) != 4 || lines[3][1] != lines[3][2] {
		t.Errorf("progress lines: %q", errOut)
	}
	if !strings.Contains(out, "aggregated 50 windows in 4 jobs (0 failed)") {
		t.Errorf("stdout = %q", out)
	}
	from := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	rows, err := st.Rollups(context.Background(), store.RollupQuery{SiteID: site.ID, Granularity: store.Daily, From: from, To: from.AddDate(0, 0, 2)})
	if err != nil || len(rows) == 0 {
		t.Fatalf("daily rollups after aggregate: %d rows, %v", len(rows), err)
	}
}

func TestAggregateOnce(t *testing.T) {
	dsn, st, site := fixtureStore(t)
	code, out, errOut := footfall(t, map[string]string{"FOOTFALL_STORE": dsn}, "aggregate", "-once")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !regexp.MustCompile(`aggregated \d+ windows in \d+ jobs \(0 failed\)`).MatchString(out) {
		t.Errorf("stdout = %q", out)
	}
	runs, err := st.Runs(context.Background(), store.RunQuery{SiteID: site.ID, Granularity: store.Daily,
		From: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(runs) != 2 || runs[0].Status != store.RunOK {
		t.Errorf("runs of the fixture days: %+v, %v", runs, err)
	}
}

func TestAggregateSettingsAreChecked(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"no mode", nil, []string{"exactly one of -once"}},
		{"two modes", []string{"-once", "-every", "1m"}, []string{"exactly one of -once"}},
		{"bad dates", []string{"-from", "14.3.2026", "-to", "2026-02-30"}, []string{"-from", "-to"}},
		{"reversed", []string{"-from", "2026-03-15", "-to", "2026-03-14"}, []string{"before -from"}},
		{"fast loop", []string{"-every", "1s"}, []string{"-every"}},
		{"export dir without config", []string{"-once", "-export-dir", "x"}, []string{"-export-dir"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := footfall(t, nil, append([]string{"aggregate"}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

const partnerConfig = `
sites:
  - domain: shop.example
partners:
  - name: acme
    sites: [shop.example]
    k: 3
    dimensions: [total, page, country]
    metrics: [visitors, pageviews]
`

func TestExportCommand(t *testing.T) {
	dsn, _, _ := fixtureStore(t)
	cfg := filepath.Join(t.TempDir(), "footfall.yaml")
	if err := os.WriteFile(cfg, []byte(partnerConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "acme")
	code, stdout, errOut := footfall(t, nil, "export", "-store", dsn, "-config", cfg, "-partner", "acme",
		"-from", "2026-03-14", "-to", "2026-03-15", "-out", out, "-format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(stdout, "files and manifest.json to "+out) {
		t.Errorf("stdout = %q", stdout)
	}
	var m aggregator.Manifest
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 3 || m.Files[1].Name != "page.jsonl" || m.Rows == 0 || m.Parameters.K != 3 {
		t.Errorf("manifest: %s", data)
	}

	code, _, errOut = footfall(t, nil, "export", "-store", dsn, "-config", cfg, "-partner", "nobody",
		"-from", "2026-03-14", "-to", "2026-03-15", "-out", out)
	if code != 2 || !strings.Contains(errOut, `no partner "nobody"`) {
		t.Errorf("unknown partner: exit %d, %s", code, errOut)
	}
}
