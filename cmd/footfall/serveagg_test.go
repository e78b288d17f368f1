package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
)

func TestAggregateScheduleByStore(t *testing.T) {
	sqliteTarget, _ := parseStore("sqlite:x.db")
	chTarget, _ := parseStore("clickhouse://127.0.0.1:9000/footfall")
	for _, tc := range []struct {
		value        string
		sqlite, ch   time.Duration
		wantCheckErr bool
	}{
		{"auto", defaultAggregateEvery, 0, false},
		{"off", 0, 0, false},
		{"0", 0, 0, false},
		{"1m", time.Minute, time.Minute, false},
		{"10ms", 0, 0, true},
	} {
		var a aggregateSchedule
		if err := a.Set(tc.value); err != nil {
			t.Fatalf("Set(%q): %v", tc.value, err)
		}
		if got := len(a.check()) > 0; got != tc.wantCheckErr {
			t.Errorf("%s: check error %v, want %v", tc.value, got, tc.wantCheckErr)
			continue
		}
		if tc.wantCheckErr {
			continue
		}
		if got := a.interval(sqliteTarget); got != tc.sqlite {
			t.Errorf("%s on SQLite: every %s, want %s", tc.value, got, tc.sqlite)
		}
		if got := a.interval(chTarget); got != tc.ch {
			t.Errorf("%s on ClickHouse: every %s, want %s", tc.value, got, tc.ch)
		}
	}
	var a aggregateSchedule
	if err := a.Set("soon"); err == nil {
		t.Error(`Set("soon"): no error`)
	}
}

// serve's aggregation goroutine on a real SQLite file: a visit stored
// after a pass reaches the rollups at the next interval, not before, and
// the goroutine ends when its context does.
func TestAggregateEveryPicksUpNewVisits(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "f.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		site, err := st.AddSite(ctx, "example.test")
		if err != nil {
			t.Fatal(err)
		}
		visit := func(path string) {
			t.Helper()
			now := time.Now().UTC()
			e := store.Event{ID: uuid.New(), SiteID: site.ID, Type: store.Pageview, Time: now, ReceivedAt: now,
				Host: "example.test", Path: path, VisitorKey: 7, KeyVersion: 1, SessionID: 1, Consent: store.ConsentAnalytics}
			if err := st.InsertEvents(ctx, []store.Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		pageviews := func() uint64 {
			t.Helper()
			day := time.Now().UTC().Truncate(24 * time.Hour)
			rows, err := st.Rollups(ctx, store.RollupQuery{SiteID: site.ID, Granularity: store.Hourly, From: day, To: day.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var n uint64
			for _, r := range rows {
				if r.Dimension == store.DimTotal {
					n += r.Pageviews
				}
			}
			return n
		}
		cfg, err := config.Parse(nil)
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		visit("/first")
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		const every = 5 * time.Minute
		go func() {
			done <- aggregateEvery(runCtx, aggregator.New(aggregator.Options{Store: st, Log: log}), st, cfg.Retention, every, log, nil)
		}()
		synctest.Wait()
		if got := pageviews(); got != 1 {
			t.Fatalf("after the first pass: %d pageviews, want 1", got)
		}
		time.Sleep(time.Minute)
		visit("/second")
		time.Sleep(every - 2*time.Minute)
		synctest.Wait()
		if got := pageviews(); got != 1 {
			t.Errorf("before the interval is over: %d pageviews, want 1", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := pageviews(); got != 2 {
			t.Errorf("after the second pass: %d pageviews, want 2", got)
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("aggregateEvery: %v", err)
		}
		if n := strings.Count(logs.String(), "msg=retention"); n != 2 {
			t.Errorf("retention ran %d times, want after each of the 2 passes:\n%s", n, logs.String())
		}
	})
}
