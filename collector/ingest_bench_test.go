package collector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/spool"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// discard is a store that writes nothing: the handler benchmarks measure
// the request path, not the store.
type discard struct{}

func (discard) InsertEvents(ctx context.Context, events []store.Event) error { return ctx.Err() }

// benchHandler is the whole beacon path in process — router, decode,
// validation, consent token, enrichment, enqueue — over a real SQLite store
// for sites, keys and salts, with the buffer writing to nowhere.
func benchHandler(b *testing.B, buf collector.BufferOptions) (http.Handler, []string) {
	b.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(b)
	site, err := st.AddSite(ctx, "example.test")
	if err != nil {
		b.Fatal(err)
	}
	product, err := app.New(ctx, app.Options{Store: st, Sink: discard{}, Buffer: buf, ConsentMaxAge: time.Hour, ConsentRefresh: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	product.Start(ctx)
	b.Cleanup(func() { product.Stop(time.Now().Add(time.Minute)) })
	cs := product.Consent
	var bodies []string
	for i := range 256 {
		tok, err := cs.Keyring().Sign(consent.Claims{ConsentID: uuid.New(), SiteID: site.ID, Categories: store.ConsentAll, PolicyVersion: 1,
			Issued: time.Now().Add(-time.Minute), Expires: time.Now().Add(24 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/products/item-%d?utm_source=newsletter","referrer":"https://www.google.com/","token":%q,"sid":"s%d","w":1920}`, i, tok, i))
	}
	return product.Handler, bodies
}

func benchPost(b *testing.B, h http.Handler, bodies []string) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/event", strings.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		i++
	}
}

// The whole beacon path in process, without the network.
func BenchmarkHandleEvent(b *testing.B) {
	h, bodies := benchHandler(b, collector.BufferOptions{QueueSize: 1 << 20})
	benchPost(b, h, bodies)
}

// The same with -durability=fsync: every request waits for a (shared) fsync.
func BenchmarkHandleEventDurable(b *testing.B) {
	sp, err := spool.New(spool.Options{Dir: b.TempDir(), MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	h, bodies := benchHandler(b, collector.BufferOptions{Spool: sp, Durable: true})
	benchPost(b, h, bodies)
}

// The enqueue stage: events into the buffer with the writer taking them
// into batches (for a store that takes no time): the sustained rate of the
// queue. A full queue makes the producer yield and retry.
func BenchmarkEnqueue(b *testing.B) {
	buffer := collector.NewBuffer(discard{}, collector.BufferOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- buffer.Run(ctx) }()
	defer func() { cancel(); <-done }()
	events := make([]store.Event, 1024)
	for i := range events {
		events[i] = sampleEvent()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for {
			n, err := buffer.EnqueueAll(events[i%len(events) : i%len(events)+1])
			if n == 1 {
				break
			}
			if !errors.Is(err, collector.ErrQueueFull) {
				b.Fatal(err)
			}
			runtime.Gosched()
		}
		i++
	}
}

func sampleEvent() store.Event {
	now := time.Now().UTC().Truncate(time.Second)
	return store.Event{
		ID: uuid.New(), SiteID: 1, Type: store.Pageview, Time: now, ReceivedAt: now,
		Host: "shop.example.com", Path: "/products/blue-shoes", Query: "utm_source=newsletter",
		Referrer: "https://www.google.com/", ReferrerHost: "www.google.com", Source: "search",
		UTMSource: "newsletter", IP: "203.0.113.57", IPTrunc: "203.0.113.0",
		VisitorKey: 0x1234567890abcdef, KeyVersion: 1, SessionID: 42,
		ConsentID: uuid.New(), Consent: 7, PolicyVersion: "1",
		Browser: "Chrome", BrowserVersion: "126", OS: "Windows", OSVersion: "10", Device: "desktop", ScreenWidth: 1920,
		Country: "DE", Region: "BE", City: "Berlin", ASN: 3320, ISP: "Deutsche Telekom",
		Props: []store.Prop{{Key: "plan", Value: "pro"}}, EngagedMS: 12000,
	}
}

// The insert stage: batches of -flush-size events into each real store.
// ns/event is the figure to compare with the request path.
func BenchmarkInsert(b *testing.B) {
	const batch = 20_000
	stores := []struct {
		name string
		open func(b *testing.B) collector.EventWriter
	}{
		{"sqlite", func(b *testing.B) collector.EventWriter {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "footfall.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"clickhouse", func(b *testing.B) collector.EventWriter {
			st, err := clickhouse.Open(context.Background(), chtest.NewDatabase(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			w := s.open(b)
			events := make([]store.Event, batch)
			var cpu time.Duration // this process's CPU time in InsertEvents
			for b.Loop() {
				b.StopTimer()
				for i := range events {
					events[i] = sampleEvent()
				}
				start := processCPU(b)
				b.StartTimer()
				if err := w.InsertEvents(context.Background(), events); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += processCPU(b) - start
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
			// The client's share, what the collector's core spends: the
			// rest of ns/event is the store's work (on another core).
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/event")
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
