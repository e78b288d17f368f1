package collector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/footfall/footfall/store"
)

// EventWriter stores a batch of raw events.
type EventWriter interface {
	InsertEvents(ctx context.Context, events []store.Event) error
}

// BufferOptions tune the buffered writer.
type BufferOptions struct {
	// QueueSize bounds how many accepted events wait in memory.
	QueueSize int
	// FlushSize flushes as soon as this many events are waiting.
	FlushSize int
	// FlushInterval flushes whatever is waiting at least this often.
	FlushInterval time.Duration
	// DrainTimeout bounds the final flush at shutdown.
	DrainTimeout time.Duration
	// Log receives flush failures (counts and causes only).
	Log *slog.Logger
	// Discard, if set, is asked about every event just before it is written;
	// true drops it. Withdrawn consent uses it: an event accepted before the
	// withdrawal reached this collector is not written after it.
	Discard func(e *store.Event) bool
}

func (o BufferOptions) withDefaults() BufferOptions {
	if o.QueueSize <= 0 {
		o.QueueSize = 100_000
	}
	if o.FlushSize <= 0 {
		o.FlushSize = 20_000
	}
	if o.FlushSize > o.QueueSize {
		o.FlushSize = o.QueueSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Buffer batches accepted events and writes them with a single writer, on
// size or on interval. Enqueue never blocks: a full queue is reported to the
// caller, who answers the client so nothing is lost silently.
type Buffer struct {
	w       EventWriter
	opts    BufferOptions
	queue   chan store.Event
	flushes chan chan struct{}
}

// NewBuffer returns a buffer writing to w. Run must be started to write.
func NewBuffer(w EventWriter, opts BufferOptions) *Buffer {
	opts = opts.withDefaults()
	return &Buffer{w: w, opts: opts, queue: make(chan store.Event, opts.QueueSize), flushes: make(chan chan struct{})}
}

// Enqueue hands e to the writer; false means the queue is full.
func (b *Buffer) Enqueue(e store.Event) bool {
	select {
	case b.queue <- e:
		return true
	default:
		return false
	}
}

// Len is how many events wait in the queue.
func (b *Buffer) Len() int { return len(b.queue) }

// Run writes batches until ctx is cancelled, then drains the queue with a
// fresh context bounded by DrainTimeout. Stop every producer before
// cancelling ctx: events enqueued after Run returns are not written.
func (b *Buffer) Run(ctx context.Context) error {
	ticker := time.NewTicker(b.opts.FlushInterval)
	defer ticker.Stop()
	batch := make([]store.Event, 0, b.opts.FlushSize)
	for {
		select {
		case e := <-b.queue:
			batch = append(batch, e)
			if len(batch) >= b.opts.FlushSize {
				batch = b.flush(ctx, batch)
			}
		case <-ticker.C:
			batch = b.flush(ctx, batch)
		case done := <-b.flushes:
			batch = b.flush(ctx, b.takeQueued(batch))
			close(done)
		case <-ctx.Done():
			return b.drain(ctx, batch)
		}
	}
}

// Flush writes everything enqueued so far and returns when it is written,
// or when ctx ends first.
func (b *Buffer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case b.flushes <- done:
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
}

// takeQueued moves every queued event into batch without waiting.
func (b *Buffer) takeQueued(batch []store.Event) []store.Event {
	for {
		select {
		case e := <-b.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
}

// flush writes batch, retrying with backoff while ctx lives. It returns the
// batch emptied, or still full if ctx ended first (drain takes it over).
func (b *Buffer) flush(ctx context.Context, batch []store.Event) []store.Event {
	if b.opts.Discard != nil {
		kept := batch[:0]
		for i := range batch {
			if !b.opts.Discard(&batch[i]) {
				kept = append(kept, batch[i])
			}
		}
		batch = kept
	}
	if len(batch) == 0 {
		return batch
	}
	backoff := 100 * time.Millisecond
	for {
		err := b.w.InsertEvents(ctx, batch)
		if err == nil {
			return batch[:0]
		}
		b.opts.Log.Warn("flush failed, retrying", "events", len(batch), "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return batch
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// drain writes what is left, on a context that is not the cancelled one.
func (b *Buffer) drain(parent context.Context, batch []store.Event) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), b.opts.DrainTimeout)
	defer cancel()
	batch = b.takeQueued(batch)
	if len(batch) == 0 {
		return nil
	}
	if rest := b.flush(ctx, batch); len(rest) > 0 {
		return &DrainError{Lost: len(rest), Err: ctx.Err()}
	}
	return nil
}

// DrainError reports events the final flush could not write in time.
type DrainError struct {
	Lost int
	Err  error
}

func (e *DrainError) Error() string {
	return fmt.Sprintf("final flush: %d events not written: %v", e.Lost, e.Err)
}

func (e *DrainError) Unwrap() error { return e.Err }
