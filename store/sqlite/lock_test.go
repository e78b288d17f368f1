package sqlite_test

import (
	"context"
	"database/sql"
	_ "embed"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
)

//go:embed testdata/many_events.sql
var manyEventsSQL string

// TestBatchJobsLeaveTheWriterFree runs each long batch job (aggregating a
// month, erasing a subject without an index, retention) on a file of
// 200,000 events while a second handle of the same file, as a collector
// in another process would, records consent decisions one after another.
// Decisions must keep being recorded while the job runs, never waiting
// for half its length, and none may fail: a job that held the write lock
// for its whole length (#18, finding 8) stops them until it ends, and
// beyond the busy timeout fails them.
func TestBatchJobsLeaveTheWriterFree(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 events")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "footfall.db")
	batch, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Close()
	if _, err := batch.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	site, err := batch.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, manyEventsSQL, sql.Named("n", 200_000), sql.Named("site", site.ID), sql.Named("from", from.Unix())); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	collector, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer collector.Close()

	jobs := []struct {
		name string
		run  func() error
	}{
		{"aggregate four days", func() error {
			_, err := batch.ReplaceRollups(ctx, store.RollupSpec{SiteID: site.ID, Granularity: store.Daily, From: from, To: from.AddDate(0, 0, 4), Version: 1})
			return err
		}},
		{"erase an IP", func() error {
			n, err := batch.EraseSubject(ctx, store.Subject{SiteID: site.ID, IP: "198.51.100.7"})
			if err == nil && n != 4000 {
				t.Errorf("erased %d events of the IP, want 4000", n)
			}
			return err
		}},
		{"retention", func() error {
			res, err := batch.ApplyRetention(ctx, store.RetentionPlan{IPBefore: from.AddDate(0, 0, 20), EventsBefore: from.AddDate(0, 0, 10)}, false)
			if err == nil && (res.Events == 0 || res.IPs == 0) {
				t.Errorf("retention removed %+v, want events and IPs", res)
			}
			return err
		}},
	}
	for _, job := range jobs {
		t.Run(job.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				running = true
				last    time.Time
				gap     time.Duration // the longest wait between two decisions while the job ran
				failed  []error
			)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for seq := uint64(1); ; seq++ {
					select {
					case <-stop:
						return
					default:
					}
					err := collector.AppendConsent(ctx, store.ConsentRecord{
						SiteID: site.ID, ChainID: uuid.New(), Seq: 1, ConsentID: uuid.New(),
						Time: time.Now().UTC().Truncate(time.Second), Action: store.ConsentAcceptAll, Granted: store.ConsentAnalytics,
					})
					now := time.Now()
					mu.Lock()
					if err != nil {
						failed = append(failed, err)
					} else if running {
						if !last.IsZero() {
							gap = max(gap, now.Sub(last))
						}
						last = now
					}
					mu.Unlock()
					time.Sleep(time.Millisecond) // a busy site's pace, not a flood
				}
			})
			// Let the writer start before the job does.
			time.Sleep(20 * time.Millisecond)
			start := time.Now()
			mu.Lock()
			last = start
			mu.Unlock()
			err := job.run()
			took := time.Since(start)
			mu.Lock()
			gap = max(gap, time.Since(last)) // a decision still waiting for the job
			running = false
			mu.Unlock()
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("job took %v; the longest wait between two decisions meanwhile %v", took, gap)
			if len(failed) > 0 {
				t.Errorf("%d decisions failed, first: %v", len(failed), failed[0])
			}
			if gap > took/2 {
				t.Errorf("decisions waited %v of the job's %v: it held the write lock", gap, took)
			}
		})
	}
}
