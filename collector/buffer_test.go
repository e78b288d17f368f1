package collector

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// recorder is an EventWriter that keeps batches and, like a real store,
// refuses to write on a done context. fail makes the next n writes fail.
type recorder struct {
	mu      sync.Mutex
	batches [][]store.Event
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
