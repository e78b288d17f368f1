package aggregator_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

// BenchmarkAggregateClickHouse aggregates one day of generated events on
// ClickHouse (24 hourly windows and the day) and compares it with one
// hand-written GROUP BY over the same raw rows. It is skipped unless
// FOOTFALL_BENCH_EVENTS says how many events to generate:
//
//	FOOTFALL_BENCH_EVENTS=10000000 go test ./aggregator -run '^$' -bench AggregateClickHouse -benchtime 1x -timeout 60m
//
// Reported: seconds per aggregation, its ratio to the GROUP BY, the peak
// memory of this (the aggregator's) process (VmHWM) and the peak memory of
// the ClickHouse queries (sampled from system.processes).
func BenchmarkAggregateClickHouse(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("FOOTFALL_BENCH_EVENTS"))
	if n <= 0 {
		b.Skip("set FOOTFALL_BENCH_EVENTS (e.g. 1000000) to run")
	}
	ctx := context.Background()
	opts := chtest.NewDatabase(b)
	opts.ReadTimeout = time.Hour // one INSERT … SELECT per granularity takes minutes at 10M
	st, err := clickhouse.Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database}, ReadTimeout: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	site, err := st.AddSite(ctx, "bench.example")
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	gen, err := os.ReadFile("testdata/bench_events.sql")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := conn.Exec(ctx, strings.TrimSuffix(strings.TrimSpace(string(gen)), ";"),
		ch.Named("site", site.ID), ch.Named("day", day.Unix()), ch.Named("n", n)); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d events in %s", n, time.Since(start).Round(time.Millisecond))

	groupBy := func(final string) time.Duration {
		start := time.Now()
		rows, err := conn.Query(ctx, "SELECT path, uniqExact(visitor_key), count() FROM events "+final+
			" WHERE site_id = ? AND date = toDate(?) AND bot = 0 GROUP BY path", site.ID, day.Format(time.DateOnly))
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		return time.Since(start)
	}
	groupBy("") // warm the caches as the aggregation will find them
	plain, final := groupBy(""), groupBy("FINAL")
	b.Logf("hand-written GROUP BY path: %s (with FINAL: %s)", plain.Round(time.Millisecond), final.Round(time.Millisecond))

	agg := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return day.AddDate(0, 0, 7) }})
	peak := sampleQueryMemory(ctx, conn)
	b.ResetTimer()
	start = time.Now()
	for range b.N {
		sum, err := agg.Recompute(ctx, day, day)
		if err != nil {
			b.Fatal(err)
		}
		if sum.RowsRead < uint64(n) {
			b.Fatalf("read %d rows, want at least %d", sum.RowsRead, n)
		}
	}
	elapsed := time.Since(start) / time.Duration(b.N)
	b.StopTimer()
	chPeak := peak()
	rows, err := st.Rollups(ctx, store.RollupQuery{SiteID: site.ID, Granularity: store.Daily, From: day, To: day.AddDate(0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	hwm := vmHWM()
	b.ReportMetric(elapsed.Seconds(), "s/aggregation")
	b.ReportMetric(elapsed.Seconds()/final.Seconds(), "x-groupby-final")
	b.ReportMetric(elapsed.Seconds()/plain.Seconds(), "x-groupby")
	b.ReportMetric(float64(hwm)/1024, "MiB-VmHWM")
	b.ReportMetric(float64(chPeak)/(1<<20), "MiB-clickhouse-query-peak")
	b.Logf("aggregation of %d events (24 hourly + 1 daily window): %s = %.1f× the GROUP BY (%.1f× with FINAL); "+
		"%d daily rollup rows; aggregator VmHWM %d KiB; ClickHouse query peak %d MiB",
		n, elapsed.Round(time.Millisecond), elapsed.Seconds()/plain.Seconds(), elapsed.Seconds()/final.Seconds(),
		len(rows), hwm, chPeak>>20)
}

// vmHWM is this process's peak resident set in KiB, from /proc (0 elsewhere).
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// sampleQueryMemory polls the memory of the server's running queries until
// the returned function is called, which returns the peak in bytes.
func sampleQueryMemory(ctx context.Context, conn ch.Conn) func() int64 {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg   sync.WaitGroup
		peak int64
	)
	wg.Go(func() {
		for ctx.Err() == nil {
			var m int64
			if err := conn.QueryRow(ctx, "SELECT toInt64(sum(memory_usage)) FROM system.processes WHERE query NOT LIKE '%system.processes%'").Scan(&m); err == nil {
				peak = max(peak, m)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	return func() int64 {
		cancel()
		wg.Wait()
		return peak
	}
}
