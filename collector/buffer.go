package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/collector/spool"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/pace"
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
	// DrainTimeout bounds the shutdown from the moment Run's context ends
	// (or from the deadline set by StopBy): the write under way is then
	// cut off and spooled, the rest written or spooled, in that time.
	DrainTimeout time.Duration
	// WriteTimeout bounds one write of a batch to the store; a write that
	// takes longer counts as failed. Default 30s.
	WriteTimeout time.Duration
	// Log receives flush failures (counts and causes only).
	Log *slog.Logger
	// Discard, if set, is asked about every event just before it is written;
	// true drops it. Withdrawn consent uses it: an event accepted before the
	// withdrawal reached this collector is not written after it.
	Discard func(e *store.Event) bool
	// Spool, if set, takes the events the store cannot: a batch whose write
	// failed (and every batch while the store is in its retry backoff),
	// events that find the queue full, and what is left at shutdown. The
	// writer replays it into the store, oldest first, once the store
	// answers. Without a spool a failing write is retried while the queue
	// fills, and a full queue refuses events.
	Spool *spool.Spool
	// Durable makes every accepted event go through the spool with an
	// fsync before Enqueue returns (group commit: concurrent requests share
	// fsyncs); the writer then reads its batches from the spool. A crash
	// then loses nothing that was acknowledged. Requires Spool.
	Durable bool
	// Metrics receives the queue, batch, store and spool figures; nil keeps
	// them unregistered.
	Metrics *Metrics
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
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Spool == nil {
		o.Durable = false
	}
	return o
}

// Backoff of a failing store: the first retry after minBackoff, doubling up
// to maxBackoff. A refused connection fails at once, so trying every two
// seconds costs nothing and finds a recovered store soon.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// minReplayBatch is the least a replay writes at once, however small
// FlushSize is: a backlog drains in few large inserts.
const minReplayBatch = 10_000

// ErrQueueFull is returned by EnqueueAll when the queue is full and there
// is no spool to take the overflow.
var ErrQueueFull = errors.New("queue full")

// Buffer batches accepted events and writes them with a single writer, on
// size or on interval. Enqueueing never waits for the store: a full queue
// overflows into the spool, and only when that fails too is the caller told
// to refuse the event, so nothing accepted is lost silently.
type Buffer struct {
	w    EventWriter
	opts BufferOptions
	m    *ingestMetrics
	// queue holds pointers into the callers' event slices: a ring of
	// values would keep QueueSize full events (~600 bytes each) resident
	// for good, a ring of pointers costs 8 bytes a slot.
	queue   chan *store.Event
	flushes chan flushRequest
	// kick wakes the writer of a durable buffer once a batch is spooled.
	kick chan struct{}
	// full wakes the writer once wakeAt events are queued (at most a
	// quarter of the queue, so that it drains long before it is full). The writer
	// does not wait on the queue itself: a receiver parked there would be
	// woken by every request, and on one core that churn of the run queue
	// delays the network poller, which is where the beacon's latency tail
	// came from (#22). Between wakes the ticker takes what is queued.
	full   chan struct{}
	wakeAt int
	// batched is how many events the writer holds in its batch, the one
	// being written included.
	batched atomic.Int64
	// writable is false while writes to the store fail.
	writable atomic.Bool
	// inflight is how many events the write to the store under way
	// carries (a live batch or a spool replay).
	inflight atomic.Int64
	// spooled counts a durable buffer's events in the spool, not written.
	spooled atomic.Int64
	// writing is closed when the write under way ends; nil between writes.
	// A write begins before Discard is asked about its events, so once a
	// consent is covered by Discard, Settle waits for the only write that
	// may still store its events.
	writing atomic.Pointer[chan struct{}]

	// stopBy, if set (Unix nanoseconds), is when the shutdown must be
	// over, whatever DrainTimeout says.
	stopBy atomic.Int64
	// hard ends when the shutdown's time is up: every write uses it.
	hard context.Context

	// The writer's state, owned by Run.
	retryAt   time.Time     // while in the future, the store is not tried
	backoff   time.Duration // the current retry backoff; 0 when healthy
	replayBuf []store.Event
}

// NewBuffer returns a buffer writing to w. Run must be started to write.
func NewBuffer(w EventWriter, opts BufferOptions) *Buffer {
	opts = opts.withDefaults()
	b := &Buffer{
		w: w, opts: opts, m: opts.Metrics.ingest,
		queue:   make(chan *store.Event, opts.QueueSize),
		flushes: make(chan flushRequest),
		kick:    make(chan struct{}, 1),
		full:    make(chan struct{}, 1),
		wakeAt:  max(1, min(opts.FlushSize, 512, opts.QueueSize/4)), // long before the queue is full
		hard:    context.Background(),                               // Run sets its own
	}
	b.m.buffer.Store(b)
	b.writable.Store(true)
	return b
}

// Enqueue hands e to the writer; false means it could be neither queued
// nor spooled, and the caller should refuse it.
func (b *Buffer) Enqueue(e store.Event) bool {
	n, _ := b.EnqueueAll([]store.Event{e})
	return n == 1
}

// EnqueueAll hands events to the writer and returns how many it took, in
// order; on an error the rest were refused. The buffer keeps pointers into
// events: the caller must not change them afterwards. Without Durable it
// never waits on the store or the disk's fsync: events go to the queue, and
// those that find it full to the spool. With Durable it returns once all
// events are fsynced to the spool (then it takes all or none).
func (b *Buffer) EnqueueAll(events []store.Event) (int, error) {
	if b.opts.Durable {
		if err := b.opts.Spool.AppendSync(events); err != nil {
			return 0, err
		}
		b.m.spooled.WithLabelValues(spoolDurable).Add(float64(len(events)))
		if b.spooled.Add(int64(len(events))) >= int64(b.opts.FlushSize) {
			select {
			case b.kick <- struct{}{}:
			default:
			}
		}
		return len(events), nil
	}
	for i := range events {
		select {
		case b.queue <- &events[i]:
			continue
		default:
		}
		if b.opts.Spool == nil {
			return i, ErrQueueFull
		}
		if err := b.opts.Spool.Append(events[i:]); err != nil {
			return i, fmt.Errorf("queue full and %w", err)
		}
		b.m.spooled.WithLabelValues(spoolQueueFull).Add(float64(len(events) - i))
		return len(events), nil
	}
	if len(b.queue) >= b.wakeAt {
		b.signalFull()
	}
	return len(events), nil
}

// signalFull wakes the writer for a batch's worth, unless a wake waits.
func (b *Buffer) signalFull() {
	select {
	case b.full <- struct{}{}:
	default:
	}
}

// Len is how many accepted events wait in memory: in the queue and in the
// writer's batch, the batch being written included.
func (b *Buffer) Len() int { return len(b.queue) + int(b.batched.Load()) }

// InFlight is how many events the write to the store under way carries:
// accepted, not yet acknowledged by the store (a replay's events also
// still count in the spool's pending bytes).
func (b *Buffer) InFlight() int { return int(b.inflight.Load()) }

// Ready reports whether the buffer can take events beyond its queue: nil
// without a spool, else the spool's health (an error wrapping
// spool.ErrFull or spool.ErrUnavailable).
func (b *Buffer) Ready() error {
	if b.opts.Spool == nil {
		return nil
	}
	return b.opts.Spool.Health()
}

// Settle returns once no write that began before the call is still under
// way. The erasure of a consent uses it: every event its Discard covers
// from now on is dropped before it is written, and the write that may
// have taken such an event before is finished.
func (b *Buffer) Settle(ctx context.Context) error {
	w := b.writing.Load()
	if w == nil {
		return nil
	}
	select {
	case <-*w:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the write under way: %w", ctx.Err())
	}
}

// beginWrite marks a write under way (see Settle); call the result when it
// ended.
func (b *Buffer) beginWrite() func() {
	w := make(chan struct{})
	b.writing.Store(&w)
	return func() {
		b.writing.Store(nil)
		close(w)
	}
}

// StoreWritable reports whether the last write to the store succeeded
// (footfall_store_writable): false while events go to the spool instead.
func (b *Buffer) StoreWritable() bool { return b.writable.Load() }

// ready is a channel that is always ready to receive from.
var ready = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Run writes batches until ctx is cancelled, then drains the queue with a
// fresh context bounded by DrainTimeout. Stop every producer before
// cancelling ctx: events enqueued after Run returns are not written. Run
// may be called again after it returned.
func (b *Buffer) Run(ctx context.Context) error {
	// A write under way when ctx ends may finish (it is not written twice
	// by the drain), but only until the shutdown's time is up: a hung store
	// must not hold the process past its -shutdown-timeout.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	b.hard = hard
	var mu sync.Mutex
	var timer *time.Timer
	stopWatch := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(time.Until(b.drainDeadline()), cancelHard)
	})
	defer func() {
		stopWatch()
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
		}
	}()
	ticker := time.NewTicker(b.opts.FlushInterval)
	defer ticker.Stop()
	batch := make([]store.Event, 0, min(b.opts.FlushSize, 4096))
	// due: a durable buffer's interval passed with events in its spool, or
	// a batch's worth is waiting there; a memory buffer replays its spool
	// whenever the store takes writes.
	due := false
	for {
		var replay <-chan struct{}
		if b.replayDue(due) {
			replay = ready
		}
		select {
		case <-b.full:
			batch = b.takeQueued(batch, b.opts.FlushSize-len(batch))
			b.batched.Store(int64(len(batch)))
			if len(batch) >= b.opts.FlushSize {
				batch = b.flush(ctx, batch)
			}
			b.batched.Store(int64(len(batch)))
			// More may be queued by now, its signal dropped while this
			// one was pending (not while the store refuses a full batch:
			// the ticker retries then).
			if len(batch) < b.opts.FlushSize && len(b.queue) >= b.wakeAt {
				b.signalFull()
			}
		case <-ticker.C:
			batch = b.takeQueued(batch, b.opts.FlushSize-len(batch))
			b.batched.Store(int64(len(batch)))
			batch = b.flush(ctx, batch)
			b.batched.Store(int64(len(batch)))
			// A durable buffer writes what its spool holds now; an empty
			// spool must not make the next single event a batch.
			due = b.opts.Durable && b.opts.Spool.Pending()
		case <-b.kick:
			due = true
		case <-replay:
			if err := b.replay(ctx); err != nil || !b.opts.Spool.Pending() {
				due = false
			}
		case req := <-b.flushes:
			batch = b.flushNow(ctx, batch, req)
			b.batched.Store(int64(len(batch)))
		case <-ctx.Done():
			err := b.drain(batch)
			b.batched.Store(0)
			return err
		}
	}
}

// replayDue reports whether the writer should replay spooled events now.
func (b *Buffer) replayDue(due bool) bool {
	if b.opts.Spool == nil || b.opts.Durable && !due || time.Now().Before(b.retryAt) {
		return false
	}
	return b.opts.Spool.Pending()
}

// StopBy sets when a shutdown must be over (the process's whole shutdown
// budget); call it before cancelling Run's context. Without it the
// shutdown takes at most DrainTimeout from then.
func (b *Buffer) StopBy(deadline time.Time) {
	b.stopBy.Store(deadline.UnixNano())
}

// drainDeadline is when the shutdown that begins now must be over.
func (b *Buffer) drainDeadline() time.Time {
	if n := b.stopBy.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Now().Add(b.opts.DrainTimeout)
}

// Flush writes everything accepted so far — the queue and the spool — to
// the store and returns when it is written, or with an error when the store
// cannot take it or ctx ends first.
func (b *Buffer) Flush(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case b.flushes <- flushRequest{ctx: ctx, done: done}:
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush: %w", ctx.Err())
	}
}

// flushRequest is a Flush waiting for the writer; ctx is the caller's, done
// gets the outcome.
type flushRequest struct {
	ctx  context.Context
	done chan<- error
}

// flushNow serves a Flush: queue and spool into the store, trying the store
// even during a backoff. The spool is replayed while the caller waits.
func (b *Buffer) flushNow(ctx context.Context, batch []store.Event, req flushRequest) []store.Event {
	b.retryAt = time.Time{}
	for n := len(b.queue); ; { // what is queued now, a batch at a time
		k := max(0, min(n, b.opts.FlushSize-len(batch)))
		batch = b.takeQueued(batch, k)
		b.batched.Store(int64(len(batch)))
		batch = b.flush(ctx, batch)
		n -= k
		if len(batch) > 0 {
			req.done <- fmt.Errorf("flush: %d events wait for the store", len(batch))
			return batch
		}
		if n <= 0 {
			break
		}
	}
	for b.opts.Spool != nil && b.opts.Spool.Pending() {
		if err := req.ctx.Err(); err != nil {
			req.done <- fmt.Errorf("flush: %w", err)
			return batch
		}
		if err := b.replay(ctx); err != nil {
			req.done <- fmt.Errorf("flush: spooled events: %w", err)
			return batch
		}
	}
	req.done <- nil
	return batch
}

// takeQueued moves up to n queued events into batch without waiting. The
// batch grows by doubling up to len(batch)+n (FlushSize in Run), not
// past it: append would take a batch of 20,000 events to a capacity of
// 32,768, 8 MiB more for the garbage collector to scan at every cycle.
func (b *Buffer) takeQueued(batch []store.Event, n int) []store.Event {
	for i := range n {
		select {
		case e := <-b.queue:
			if len(batch) == cap(batch) {
				grown := make([]store.Event, len(batch), len(batch)+min(max(cap(batch), 64), n-i))
				copy(grown, batch)
				batch = grown
			}
			batch = append(batch, *e)
		default:
			return batch
		}
	}
	return batch
}

// discard drops the events Discard rejects, in place.
func (b *Buffer) discard(batch []store.Event) []store.Event {
	if b.opts.Discard == nil {
		return batch
	}
	kept := batch[:0]
	for i := range batch {
		if !b.opts.Discard(&batch[i]) {
			kept = append(kept, batch[i])
		}
	}
	if n := len(batch) - len(kept); n > 0 {
		clear(batch[len(kept):])
		b.m.discarded.Add(float64(n))
	}
	return kept
}

// write makes one attempt to store events, bounded by WriteTimeout. Run's
// context (no deadline) only says "shut down": a write in progress then
// finishes rather than being cut off and written again by the drain, unless
// the shutdown's time is up first. The drain's context has a deadline, and
// that one counts.
func (b *Buffer) write(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		// While the collector serves, the write shares the core with
		// the requests and paces itself; the drain's does not.
		ctx = pace.Share(b.hard)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.WriteTimeout)
	defer cancel()
	b.inflight.Store(int64(len(events)))
	defer b.inflight.Store(0)
	start := time.Now()
	err := b.w.InsertEvents(ctx, events)
	b.m.writeTime.Observe(time.Since(start).Seconds())
	if err != nil {
		b.m.storeErrors.Inc()
		return err
	}
	b.m.batchSize.Observe(float64(len(events)))
	b.m.stored.Add(float64(len(events)))
	return nil
}

// failed starts or extends the store's retry backoff.
func (b *Buffer) failed(events int, err error) {
	b.backoff = min(max(2*b.backoff, minBackoff), maxBackoff)
	b.retryAt = time.Now().Add(b.backoff)
	b.m.storeUp.Set(0)
	b.writable.Store(false)
	b.opts.Log.Warn("store write failed", "events", events, "retry_in", b.backoff, "err", err)
}

// succeeded ends a backoff.
func (b *Buffer) succeeded() {
	if b.backoff > 0 {
		b.opts.Log.Info("store writable again")
		b.m.storeUp.Set(1)
		b.writable.Store(true)
	}
	b.backoff, b.retryAt = 0, time.Time{}
}

// flush writes batch, or spools it when the store fails. It returns the
// batch emptied, or still full if neither took it before ctx ended (drain
// takes it over).
func (b *Buffer) flush(ctx context.Context, batch []store.Event) []store.Event {
	if len(batch) == 0 {
		return batch
	}
	defer b.beginWrite()()
	batch = b.discard(batch)
	if len(batch) == 0 {
		return batch
	}
	for {
		if !time.Now().Before(b.retryAt) {
			err := b.write(ctx, batch)
			if err == nil {
				b.succeeded()
				clear(batch) // the backing array must not keep events alive
				return batch[:0]
			}
			b.failed(len(batch), err)
		}
		if b.opts.Spool != nil {
			err := b.opts.Spool.Append(batch)
			if err == nil {
				b.m.spooled.WithLabelValues(spoolStoreDown).Add(float64(len(batch)))
				clear(batch)
				return batch[:0]
			}
			b.opts.Log.Error("store and spool both fail; holding the batch in memory", "events", len(batch), "err", err)
		}
		select {
		case <-ctx.Done():
			return batch
		case <-time.After(time.Until(b.retryAt)):
		}
	}
}

// replay writes one batch of spooled events to the store and commits it.
func (b *Buffer) replay(ctx context.Context) error {
	defer b.beginWrite()()
	sp := b.opts.Spool
	events, pos, err := sp.Read(b.replayBuf[:0], max(b.opts.FlushSize, minReplayBatch))
	defer func() {
		clear(events)
		b.replayBuf = events[:0]
	}()
	if err == nil && pos == (spool.Pos{}) {
		// Pending said yes, Read found nothing: never spin on it.
		err = errors.New("spool holds events it cannot read now")
	}
	if err != nil {
		// The disk, not the store: wait as for a failing store.
		b.backoff = min(max(2*b.backoff, minBackoff), maxBackoff)
		b.retryAt = time.Now().Add(b.backoff)
		b.opts.Log.Error("spool read failed", "dir", sp.Dir(), "retry_in", b.backoff, "err", err)
		return err
	}
	events = b.discard(events)
	if err := b.write(ctx, events); err != nil {
		b.failed(len(events), err)
		return err
	}
	b.succeeded()
	b.spooled.Add(-int64(pos.Events())) // may go below zero after a restart: harmless
	if err := sp.Commit(pos); err != nil {
		b.opts.Log.Warn("spool: could not delete a replayed segment; it will be replayed again (the store keeps each event once)", "err", err)
	}
	b.m.replayed.Add(float64(pos.Events()))
	return nil
}

// drain writes what is left, on a context that is not the cancelled one:
// the queue, a batch at a time, then as much of the spool as the store
// takes in time. What the store cannot take is spooled (and fsynced) for
// the next start.
func (b *Buffer) drain(batch []store.Event) error {
	ctx, cancel := context.WithDeadline(b.hard, b.drainDeadline())
	defer cancel()
	b.retryAt = time.Time{} // one more try, whatever the backoff
	var lost int
	var lostErr error
	for {
		batch = b.discard(b.takeQueued(batch, b.opts.FlushSize-len(batch)))
		if len(batch) == 0 {
			break
		}
		if err := b.drainBatch(ctx, batch); err != nil {
			lost += len(batch)
			lostErr = err
		}
		clear(batch)
		batch = batch[:0]
	}
	var result error
	if lost > 0 {
		result = &DrainError{Lost: lost, Err: lostErr}
	}
	sp := b.opts.Spool
	if sp == nil {
		return result
	}
	for ctx.Err() == nil && !time.Now().Before(b.retryAt) && sp.Pending() {
		if err := b.replay(ctx); err != nil {
			break
		}
	}
	if err := sp.Sync(); err != nil {
		return errors.Join(result, fmt.Errorf("final flush: spool: %w", err))
	}
	if st := sp.Stats(); st.PendingBytes > 0 {
		b.opts.Log.Warn("events left in the spool; they are replayed at the next start", "dir", sp.Dir(), "bytes", st.PendingBytes)
	}
	return result
}

// drainBatch writes one batch at shutdown: to the store if it takes it in
// one try, else to the spool; if the spool fails too, to the store with
// retries until the deadline.
func (b *Buffer) drainBatch(ctx context.Context, batch []store.Event) error {
	sp := b.opts.Spool
	if sp != nil && time.Now().Before(b.retryAt) {
		// The store failed moments ago: spool without waiting for it.
		if err := sp.Append(batch); err == nil {
			b.m.spooled.WithLabelValues(spoolShutdown).Add(float64(len(batch)))
			return nil
		}
	} else if sp != nil {
		err := b.write(ctx, batch)
		if err == nil {
			b.succeeded()
			return nil
		}
		b.failed(len(batch), err)
		if err := sp.Append(batch); err == nil {
			b.m.spooled.WithLabelValues(spoolShutdown).Add(float64(len(batch)))
			return nil
		}
	}
	if rest := b.flush(ctx, batch); len(rest) > 0 {
		return ctx.Err()
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
