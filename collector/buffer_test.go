package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/spool"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/pace"
)

// recorder is an EventWriter that keeps batches and, like a real store,
// refuses to write on a done context. fail makes the next n writes fail.
type recorder struct {
	mu      sync.Mutex
	batches [][]store.Event
	paced   []bool // per batch: written under a context marked by pace.Share
	fail    int
	calls   int
}

func (r *recorder) InsertEvents(ctx context.Context, events []store.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.fail > 0 {
		r.fail--
		return errors.New("store down")
	}
	r.batches = append(r.batches, append([]store.Event(nil), events...))
	r.paced = append(r.paced, pace.New(ctx, 1) != nil)
	return nil
}

func (r *recorder) sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []int
	for _, b := range r.batches {
		s = append(s, len(b))
	}
	return s
}

func enqueue(t *testing.T, b *Buffer, n int) {
	t.Helper()
	for range n {
		if !b.Enqueue(store.Event{ID: uuid.New()}) {
			t.Fatal("queue full")
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFlushOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: 2 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()

		enqueue(t, b, 3)
		time.Sleep(1999 * time.Millisecond)
		synctest.Wait()
		if got := rec.sizes(); len(got) != 0 {
			t.Fatalf("flushed %v before the interval", got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := rec.sizes(); !equal(got, []int{3}) {
			t.Fatalf("after the interval: batches %v, want [3]", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestFlushOnSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 10, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()

		enqueue(t, b, 25)
		synctest.Wait()
		if got := rec.sizes(); !equal(got, []int{10, 10}) {
			t.Fatalf("batches %v, want [10 10] with no time passed", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := rec.sizes(); !equal(got, []int{10, 10, 5}) {
			t.Fatalf("after shutdown: batches %v, want the 5 left drained", got)
		}
	})
}

func TestFlushRetriesUntilStoreRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 3}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 5, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()

		enqueue(t, b, 5)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := rec.sizes(); !equal(got, []int{5}) {
			t.Fatalf("batches %v after 3 failures, want [5]", got)
		}
		cancel()
		<-done
	})
}

// The final flush must use a live context: the one Run got is cancelled.
func TestDrainUsesLiveContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		enqueue(t, b, 7)
		cancel()
		if err := b.Run(ctx); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := rec.sizes(); !equal(got, []int{7}) {
			t.Fatalf("drained batches %v, want [7]", got)
		}
	})
}

// While the collector serves, its writes share the core with requests and
// pace themselves; the final flush at shutdown runs at full speed.
func TestOnlyWritesWhileServingArePaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour})
		stop := startRun(t, b)
		enqueue(t, b, 50)
		synctest.Wait()
		enqueue(t, b, 7)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		sizes := rec.sizes()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if got, want := rec.paced, []bool{true, false}; !slices.Equal(got, want) || !equal(sizes, []int{50, 7}) {
			t.Errorf("batches %v paced %v, want [50 7] paced %v (the batch while serving, not the drain)", sizes, got, want)
		}
	})
}

func TestDrainGivesUpAfterTimeoutAndSaysHowMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 1 << 30}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour, DrainTimeout: 20 * time.Second})
		ctx, cancel := context.WithCancel(t.Context())
		enqueue(t, b, 4)
		cancel()
		err := b.Run(ctx)
		var de *DrainError
		if !errors.As(err, &de) || de.Lost != 4 {
			t.Fatalf("Run = %v, want a DrainError with 4 lost", err)
		}
	})
}

func TestFlushWritesEverythingEnqueuedAndWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		enqueue(t, b, 9)
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := rec.sizes(); !equal(got, []int{9}) {
			t.Fatalf("after Flush: batches %v, want [9]", got)
		}
		cancel()
		<-done
	})
}

func TestDiscardDropsEventsAtWriteTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		withdrawn := uuid.New()
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour,
			Discard: func(e *store.Event) bool { return e.ConsentID == withdrawn }})
		for i := range 6 {
			e := store.Event{ID: uuid.New()}
			if i%2 == 0 {
				e.ConsentID = withdrawn
			}
			b.Enqueue(e)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.sizes(); !equal(got, []int{3}) {
			t.Fatalf("batches %v, want [3]: the withdrawn consent's events dropped", got)
		}
	})
}

// runBuffer runs b until the test ends (also when a check fails: a
// synctest bubble waits for its goroutines) and checks Run's result.
// startRun runs b until stop, which cancels Run and returns its error.
func startRun(t *testing.T, b *Buffer) (stop func() error) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func runBuffer(t *testing.T, b *Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// newSpool returns a spool in a fresh folder, closed when the test ends.
func newSpool(t *testing.T, opts spool.Options) *spool.Spool {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	sp, err := spool.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

// storedOnce checks that the recorder holds exactly the events of want,
// each once.
func storedOnce(t *testing.T, rec *recorder, want []uuid.UUID) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := map[uuid.UUID]int{}
	for _, b := range rec.batches {
		for _, e := range b {
			seen[e.ID]++
		}
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("event %s stored %d times, want once", id, seen[id])
		}
		delete(seen, id)
	}
	if len(seen) > 0 {
		t.Errorf("%d events stored that were never enqueued", len(seen))
	}
}

func enqueueIDs(t *testing.T, b *Buffer, n int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for range n {
		e := store.Event{ID: uuid.New(), Type: store.Pageview}
		if !b.Enqueue(e) {
			t.Fatalf("event %d refused", len(ids))
		}
		ids = append(ids, e.ID)
	}
	return ids
}

func TestStoreDownSpoolsThenReplays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 4}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 10, FlushInterval: time.Second, Spool: sp})
		runBuffer(t, b)

		ids := enqueueIDs(t, b, 35)
		synctest.Wait()
		if st := sp.Stats(); st.Appended == 0 {
			t.Fatalf("nothing spooled while the store failed: %+v", st)
		}
		time.Sleep(30 * time.Second) // backoffs pass, the store answers
		synctest.Wait()
		if sp.Pending() {
			t.Errorf("spool still holds events after the store recovered: %+v", sp.Stats())
		}
		storedOnce(t, rec, ids)
	})
}

func TestFullQueueOverflowsToSpool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 10, FlushSize: 10, FlushInterval: time.Hour, Spool: sp})
		ids := enqueueIDs(t, b, 25) // no writer runs: 10 queued, 15 spooled
		if b.Len() != 10 || sp.Stats().Appended != 15 {
			t.Fatalf("queue %d, spooled %d; want 10 and 15", b.Len(), sp.Stats().Appended)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Run(ctx); err != nil {
			t.Fatal(err)
		}
		storedOnce(t, rec, ids)
	})
}

func TestFullQueueWithoutSpoolRefuses(t *testing.T) {
	b := NewBuffer(&recorder{}, BufferOptions{QueueSize: 3, FlushSize: 3})
	n, err := b.EnqueueAll(make([]store.Event, 5))
	if n != 3 || !errors.Is(err, ErrQueueFull) {
		t.Errorf("EnqueueAll = %d, %v; want 3, ErrQueueFull", n, err)
	}
}

// Store down and spool full: events are refused (the client gets 503), the
// buffer says why, nothing accepted is lost, nothing crashes.
func TestSpoolFullRefusesAndSaysSo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 1 << 30}
		sp := newSpool(t, spool.Options{MaxBytes: 64 << 10})
		b := NewBuffer(rec, BufferOptions{QueueSize: 10, FlushSize: 10, FlushInterval: time.Hour, Spool: sp, DrainTimeout: time.Second})
		var accepted int
		var err error
		for range 10000 {
			var n int
			n, err = b.EnqueueAll([]store.Event{{ID: uuid.New(), Type: store.Pageview, Path: "/a-path-of-some-length"}})
			accepted += n
			if err != nil {
				break
			}
		}
		if !errors.Is(err, spool.ErrFull) {
			t.Fatalf("enqueue with the spool full: %v, want spool.ErrFull", err)
		}
		if err := b.Ready(); !errors.Is(err, spool.ErrFull) {
			t.Errorf("Ready = %v, want spool.ErrFull", err)
		}
		if got := int(sp.Stats().Appended) + b.Len(); got != accepted {
			t.Errorf("spooled+queued %d, accepted %d", got, accepted)
		}
	})
}

// At shutdown, what the store cannot take goes to the spool, and the next
// run replays it.
func TestDrainSpoolsForTheNextRun(t *testing.T) {
	dir := t.TempDir()
	var ids []uuid.UUID
	synctest.Test(t, func(t *testing.T) {
		down := &recorder{fail: 1 << 30}
		sp, _ := spool.New(spool.Options{Dir: dir})
		b := NewBuffer(down, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour, Spool: sp, DrainTimeout: time.Second})
		ids = enqueueIDs(t, b, 30)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Run(ctx); err != nil {
			t.Fatalf("drain with the store down: %v, want the events spooled", err)
		}
		sp.Close()
	})
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{Dir: dir})
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 50, FlushInterval: time.Hour, Spool: sp})
		runBuffer(t, b)
		synctest.Wait()
		storedOnce(t, rec, ids)
	})
}

func TestDurableGoesThroughSpoolAndFlushesOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 1000, FlushInterval: 2 * time.Second, Spool: sp, Durable: true})
		runBuffer(t, b)
		ids := enqueueIDs(t, b, 7)
		if b.Len() != 0 || sp.Stats().Appended != 7 {
			t.Fatalf("durable enqueue: queue %d, spool %d; want 0 and 7", b.Len(), sp.Stats().Appended)
		}
		synctest.Wait()
		if got := rec.sizes(); len(got) != 0 {
			t.Fatalf("written %v before the interval", got)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		storedOnce(t, rec, ids)
		if sp.Pending() {
			t.Error("spool not empty after the flush")
		}
	})
}

func TestFlushWritesTheSpoolToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 5, FlushSize: 5, FlushInterval: time.Hour, Spool: sp})
		ids := enqueueIDs(t, b, 12) // 5 queued, 7 spooled
		runBuffer(t, b)
		if err := b.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		storedOnce(t, rec, ids)
	})
}

func TestFlushReportsStoreDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 1 << 30}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 5, FlushSize: 5, FlushInterval: time.Hour, Spool: sp, DrainTimeout: time.Second})
		enqueueIDs(t, b, 3)
		runBuffer(t, b)
		if err := b.Flush(t.Context()); err == nil {
			t.Error("Flush = nil with the store down, want an error (erasure must not report success)")
		}
	})
}

func TestDiscardAppliesToReplayedEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{})
		withdrawn := uuid.New()
		var revoked bool
		b := NewBuffer(rec, BufferOptions{QueueSize: 2, FlushSize: 2, FlushInterval: time.Hour, Spool: sp,
			Discard: func(e *store.Event) bool { return revoked && e.ConsentID == withdrawn }})
		var keep []uuid.UUID
		for i := range 6 {
			e := store.Event{ID: uuid.New(), Type: store.Pageview}
			if i%2 == 0 {
				e.ConsentID = withdrawn
			} else {
				keep = append(keep, e.ID)
			}
			b.Enqueue(e) // 2 queued, 4 spooled
		}
		revoked = true // withdrawn while the events wait
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := b.Run(ctx); err != nil {
			t.Fatal(err)
		}
		storedOnce(t, rec, keep)
	})
}

// sink is a store that keeps only a count, and fails while down is set.
type sink struct {
	mu     sync.Mutex
	down   bool
	stored int
}

func (s *sink) InsertEvents(ctx context.Context, events []store.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.down {
		return errors.New("store down")
	}
	s.stored += len(events)
	return nil
}

func (s *sink) set(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stored
}

// liveHeap collects and returns the heap the collection found live
// (runtime/metrics /gc/heap/live:bytes): unlike HeapAlloc read after it, it
// does not count what the writer goroutine allocated since, which on a busy
// machine made the peak look tens of MiB higher than what was kept.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A million events from a million distinct clients (IP, user agent
// fields, visitor key) pass through the queue and the spool — a third of
// them while the store is down — and the live heap does not grow with
// them: nothing in the buffer or the spool keeps per-client state.
// (The enricher's caches have their own bound and test.)
//
// Each event is built in a slice of its own, as a request builds it: the
// buffer keeps pointers to queued events, so a full queue holds QueueSize
// events alive, and the writer's batch and a replay batch hold copies. That
// fixed cost is computed from the configuration and the measured size of
// an event. On top of it the bound allows 48 MiB for the spool's buffers
// and the runtime: 50 bytes a client, so a per-client leak would exceed it.
func TestMemoryBoundedWithMillionDistinctClients(t *testing.T) {
	if testing.Short() {
		t.Skip("a million events")
	}
	const total = 1_000_000
	st := &sink{down: true}
	sp := newSpool(t, spool.Options{MaxBytes: 4 << 30})
	b := NewBuffer(st, BufferOptions{Spool: sp, FlushInterval: 50 * time.Millisecond})
	event := func(i int) []store.Event {
		return []store.Event{{
			ID: uuid.New(), Type: store.Pageview, Time: time.Unix(int64(1_780_000_000+i), 0).UTC(),
			IP:             fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			IPTrunc:        fmt.Sprintf("10.%d.%d.0", i>>16&255, i>>8&255),
			Browser:        "Browser" + strconv.Itoa(i%5000),
			BrowserVersion: strconv.Itoa(i),
			OS:             "OS" + strconv.Itoa(i%777),
			VisitorKey:     uint64(i) * 0x9e3779b97f4a7c15,
			Path:           "/page/" + strconv.Itoa(i),
		}}
	}

	// What one queued event costs (the event, its slice, its strings), and
	// what a copy in a batch costs (the event; strings are shared, or
	// decoded anew by a replay: counted as a queued event).
	base := liveHeap()
	sample := make([][]store.Event, 10_000)
	for i := range sample {
		sample[i] = event(total + i)
	}
	queued := float64(liveHeap()-base) / float64(len(sample))
	runtime.KeepAlive(sample)
	sample = nil
	copied := float64(unsafe.Sizeof(store.Event{}))
	replayBatch := max(b.opts.FlushSize, minReplayBatch)
	// The queue full; the writer's batch (its slice grows by up to a
	// quarter beyond FlushSize); a replay batch.
	fixed := uint64(float64(b.opts.QueueSize)*queued + 1.25*float64(b.opts.FlushSize)*copied + float64(replayBatch)*queued)
	// After the last write: the batch's and the replay's backing arrays.
	kept := uint64(1.25*float64(b.opts.FlushSize)*copied + float64(replayBatch)*copied)
	const margin = 48 << 20

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- b.Run(ctx) }()
	base = liveHeap()
	var peak uint64
	const producers = 4
	var wg sync.WaitGroup
	// The producers pause while the heap is measured: what they allocate
	// during a collection survives it, and would count as live.
	var pause sync.RWMutex
	for p := range producers {
		wg.Go(func() {
			for i := p; i < total; i += producers {
				if i == total/3 {
					st.set(false) // the store comes back
				}
				pause.RLock()
				n, err := b.EnqueueAll(event(i))
				pause.RUnlock()
				if n != 1 {
					t.Errorf("event %d refused: %v", i, err)
					return
				}
				if p == 0 && i%(100_000) == 0 && i > 0 {
					pause.Lock()
					peak = max(peak, liveHeap())
					pause.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := b.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := liveHeap()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := st.count(); got != total {
		t.Errorf("stored %d of %d", got, total)
	}
	stats := sp.Stats()
	t.Logf("an event costs %.0f bytes queued, %.0f in a batch; live heap: %d MiB before, %d MiB at peak (bound %d), %d MiB after (bound %d); spooled %d events",
		queued, copied, base>>20, peak>>20, (base+fixed+margin)>>20, after>>20, (base+kept+margin)>>20, stats.Appended)
	if peak > base+fixed+margin {
		t.Errorf("live heap peaked at %d MiB, %d MiB over the start; the queue and batches account for %d MiB", peak>>20, (peak-base)>>20, fixed>>20)
	}
	if after > base+kept+margin {
		t.Errorf("live heap %d MiB after everything was written, %d MiB over the start: events are kept", after>>20, (after-base)>>20)
	}
	if stats.Appended == 0 {
		t.Error("nothing went through the spool")
	}
}

// A durable buffer writes batches, not one insert per request: on size, or
// on interval.
func TestDurableFlushesOnSizeNotPerEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 100, FlushSize: 20, FlushInterval: time.Second, Spool: sp, Durable: true})
		runBuffer(t, b)
		time.Sleep(3 * time.Second) // ticks with an empty spool
		synctest.Wait()
		ids := enqueueIDs(t, b, 5)
		synctest.Wait()
		if got := rec.sizes(); len(got) != 0 {
			t.Fatalf("batches %v right after 5 events; want none before the interval or a full batch", got)
		}
		ids = append(ids, enqueueIDs(t, b, 45)...) // 50 events: over a batch's worth
		synctest.Wait()
		if got := rec.sizes(); len(got) == 0 {
			t.Fatalf("nothing written with 50 events spooled and FlushSize 20")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		storedOnce(t, rec, ids)
	})
}

// A spool closed under a running buffer (a test's cleanup, a shutdown in
// the wrong order) ends the drain; it must not spin.
func TestClosedSpoolDoesNotSpin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{fail: 1 << 30}
		sp := newSpool(t, spool.Options{})
		b := NewBuffer(rec, BufferOptions{QueueSize: 10, FlushSize: 10, FlushInterval: time.Hour, Spool: sp, DrainTimeout: time.Second})
		enqueueIDs(t, b, 25) // 15 spooled
		sp.Close()
		rec.mu.Lock()
		rec.fail = 0
		rec.mu.Unlock()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		b.Run(ctx) // returns: the test would hang otherwise
	})
}

// Beacons refused for overload are logged as a summary: a WARN line at the
// first refusal, then at most one per busyLogInterval with the counts since
// the previous line.
func TestBusyLogSummarises(t *testing.T) {
	synctest.Test(t, testBusyLogSummarises)
}

func testBusyLogSummarises(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	var l busyLog
	start := time.Unix(1_780_000_000, 0)
	err := fmt.Errorf("queue full and %w", spool.ErrFull)
	for i := range 1000 { // within the first interval
		l.note(log, start.Add(time.Duration(i)*time.Millisecond), 2, err)
	}
	l.note(log, start.Add(busyLogInterval), 1, err)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines for 1001 refusals, want 2:\n%s", len(lines), out.String())
	}
	for i, want := range []string{"events=2 requests=1", "events=1999 requests=1000"} {
		if !strings.Contains(lines[i], "level=WARN") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want a WARN with %s", i+1, lines[i], want)
		}
	}
}

// gated is a recorder whose writes wait until the gate opens.
type gated struct {
	recorder
	gate chan struct{}
}

func (g *gated) InsertEvents(ctx context.Context, events []store.Event) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.recorder.InsertEvents(ctx, events)
}

// While a batch is being written, its events are neither in the queue nor
// stored: Len and InFlight (footfall_queue_depth, footfall_inflight_events)
// still count them, so "nothing left to lose" can be read from metrics.
func TestEventsBeingWrittenAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gated{gate: make(chan struct{})}
		b := NewBuffer(g, BufferOptions{QueueSize: 100, FlushSize: 10, FlushInterval: time.Hour})
		runBuffer(t, b)
		enqueue(t, b, 10)
		synctest.Wait() // the writer took the batch and waits for the store
		if got := b.Len(); got != 10 {
			t.Errorf("Len during the write: %d, want 10", got)
		}
		if got := b.InFlight(); got != 10 {
			t.Errorf("InFlight during the write: %d, want 10", got)
		}
		close(g.gate)
		synctest.Wait()
		if got, in := b.Len(), b.InFlight(); got != 0 || in != 0 {
			t.Errorf("after the write: Len %d, InFlight %d, want 0 and 0", got, in)
		}
	})
}

// The summary of refusals held back by the interval is written when the
// interval ends, even if no refusal follows; the reason is the buffer's,
// not a fixed "queue full".
func TestBusyLogSummaryNeedsNoFurtherRefusal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out syncWriter
		log := slog.New(slog.NewTextHandler(&out, nil))
		var l busyLog
		err := fmt.Errorf("spool: %w", spool.ErrFull) // -durability=fsync: no queue involved
		l.note(log, time.Now(), 1, err)
		time.Sleep(time.Second)
		l.note(log, time.Now(), 5, err)
		time.Sleep(busyLogInterval)
		synctest.Wait()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || !strings.Contains(lines[1], "events=5 requests=1") {
			t.Fatalf("log after the interval, with no further refusal:\n%s\nwant a second line with events=5", out.String())
		}
		if strings.Contains(out.String(), "queue") {
			t.Errorf("the log blames the queue for a full spool:\n%s", out.String())
		}
	})
}

// syncWriter is a bytes.Buffer safe for a timer's goroutine.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// capRecorder keeps the length and capacity of each batch it is given.
type capRecorder struct {
	mu         sync.Mutex
	lens, caps []int
}

func (c *capRecorder) InsertEvents(ctx context.Context, events []store.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lens = append(c.lens, len(events))
	c.caps = append(c.caps, cap(events))
	return ctx.Err()
}

// The writer's batch is live heap the collector scans at every cycle: it
// must not grow past FlushSize, as append's doubling would (a batch of
// 5,000 from the initial 4,096 to 5,312 or more).
func TestBatchGrowsToFlushSizeOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const flushSize = 5000
		rec := &capRecorder{}
		b := NewBuffer(rec, BufferOptions{QueueSize: 4 * flushSize, FlushSize: flushSize, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()
		for range 3 {
			enqueue(t, b, flushSize)
			synctest.Wait()
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		total, full := 0, 0
		for i := range rec.lens {
			total += rec.lens[i]
			if rec.lens[i] == flushSize {
				full++
			}
			if rec.caps[i] > flushSize {
				t.Errorf("batch %d: len %d cap %d, want a capacity of at most %d", i, rec.lens[i], rec.caps[i], flushSize)
			}
		}
		if total != 3*flushSize || full < 2 {
			t.Errorf("batches %v, want %d events in all, at least two full batches", rec.lens, 3*flushSize)
		}
	})
}
