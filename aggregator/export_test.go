package aggregator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
)

func TestLastPeriod(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		schedule, today, from, to string
	}{
		{"daily", "2026-03-01", "2026-02-28", "2026-02-28"},
		{"weekly", "2026-03-16", "2026-03-09", "2026-03-15"}, // a Monday: last week
		{"weekly", "2026-03-22", "2026-03-09", "2026-03-15"}, // a Sunday: the week is not over
		{"monthly", "2026-01-15", "2025-12-01", "2025-12-31"},
	} {
		p, err := aggregator.LastPeriod(tt.schedule, d(tt.today))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.From.Format(time.DateOnly) + ".." + p.To.Format(time.DateOnly); got != tt.from+".."+tt.to {
			t.Errorf("%s on %s: %s, want %s..%s", tt.schedule, tt.today, got, tt.from, tt.to)
		}
	}
	if _, err := aggregator.LastPeriod("hourly", d("2026-01-01")); err == nil {
		t.Error("unknown schedule accepted")
	}
}

func TestScheduledExportsWriteEachPeriodOnce(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	seeded(t, st)
	_, cfg := partner(t, "sites:\n  - domain: shop.example\n    timezone: America/New_York\npartners:\n"+
		"  - name: daily-co\n    sites: [shop.example]\n    k: 3\n    schedule: daily\n  - name: manual\n    sites: [shop.example]\n")
	dir := t.TempDir()
	// 03:00 UTC on the 16th is still the 15th in New York: the last
	// finished day there is the 14th.
	now := time.Date(2026, 3, 16, 3, 0, 0, 0, time.UTC)
	written, err := aggregator.ScheduledExports(ctx, aggregator.ScheduleOptions{Source: st, Config: cfg, Dir: dir, Format: aggregator.FormatCSV, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "daily-co", "2026-03-14_2026-03-14")
	if len(written) != 1 || written[0] != want {
		t.Fatalf("written %v, want [%s]", written, want)
	}
	if _, err := os.Stat(filepath.Join(want, "manifest.json")); err != nil {
		t.Fatal(err)
	}
	again, err := aggregator.ScheduledExports(ctx, aggregator.ScheduleOptions{Source: st, Config: cfg, Dir: dir, Format: aggregator.FormatCSV, Now: now.Add(30 * time.Minute)})
	if err != nil || len(again) != 0 {
		t.Errorf("second pass wrote %v (%v), want nothing", again, err)
	}
}
