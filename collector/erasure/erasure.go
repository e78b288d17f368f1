// Package erasure erases the raw events of a consent id as durable work:
// the request is written down before it is attempted (a withdrawal's ledger
// record, or a pending row in the store's erasures table), a loop owned by
// the serve process drives it to done on a context of its own, retrying
// until it succeeds, and a completion mark ends it. A request whose client
// went away, or whose process stopped, is finished by the loop, or by the
// next start that finds it pending.
//
// Events of the consent that are still on their way (in the collector's
// queue, its spool, or accepted a moment later) are dropped when they are
// written: the buffer asks Covers about every event. So an erasure never
// waits for the queue or the spool to drain; it waits only for the one
// write that may have taken such an event before (Options.Settle).
//
// The visitor endpoints, the admin API and the CLI reach it through the
// subject-rights service (collector/subject); serve's erasure loop is
// Run.
package erasure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/store"
)

// Store is where requests, completion marks and the events live.
type Store interface {
	RecordErasure(ctx context.Context, e store.Erasure) error
	Erasures(ctx context.Context, since time.Time) ([]store.Erasure, error)
	Withdrawals(ctx context.Context, since time.Time) ([]store.Withdrawal, error)
	EraseEventsByConsent(ctx context.Context, consentID uuid.UUID) (int64, error)
}

// Options configure a Service.
type Options struct {
	Store Store
	// Settle returns once no write to the store that began before the call
	// is still under way (collector.Buffer.Settle); nil when nothing writes
	// events in this process (the CLI).
	Settle func(ctx context.Context) error
	// MaxAge bounds how far back requests and withdrawals are read at the
	// start: older ones are done, or their events gone with retention.
	// Default 400 days.
	MaxAge time.Duration
	// Poll is how often the loop reads requests made elsewhere (the CLI,
	// another replica's admin API). Default 30s.
	Poll time.Duration
	// Timeout bounds one attempt. Default 2m (a ClickHouse mutation on a
	// large table takes a while).
	Timeout time.Duration
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	Now        func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Settle == nil {
		o.Settle = func(context.Context) error { return nil }
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 400 * 24 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Retry backoff of a failing erasure.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// keepDone is how long the outcome of a request is kept for Wait.
const keepDone = 10 * time.Minute

// key names one request: a consent id and when it was asked for.
type key struct {
	id uuid.UUID
	at int64 // Unix seconds
}

// job is a pending request.
type job struct {
	key
	// unrecorded: scheduled by Again, not yet written down; the loop
	// records it before it erases.
	unrecorded bool
	backoff    time.Duration
	retryAt    time.Time
}

// Service records erasures and drives them to done.
type Service struct {
	opts    Options
	metrics metrics

	mu sync.Mutex
	// cutoff: events of the consent id received up to this time (Unix
	// seconds) are dropped on their way to the store.
	cutoff  map[uuid.UUID]int64
	pending map[key]*job
	// done holds the outcome of finished requests that someone may wait
	// for; waiters are woken by closing changed.
	done    map[key]store.Erasure
	changed chan struct{}
	wake    chan struct{}
}

type metrics struct {
	pending  prometheus.GaugeFunc
	erased   prometheus.Counter
	failures prometheus.Counter
}

// New returns a service; Load reads what is pending, Run works on it.
func New(opts Options) *Service {
	s := &Service{
		opts:   opts.withDefaults(),
		cutoff: map[uuid.UUID]int64{}, pending: map[key]*job{}, done: map[key]store.Erasure{},
		changed: make(chan struct{}), wake: make(chan struct{}, 1),
	}
	s.metrics = metrics{
		pending: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "footfall_erasures_pending",
			Help: "Erasure requests (withdrawals included) recorded and not yet done.",
		}, func() float64 { s.mu.Lock(); defer s.mu.Unlock(); return float64(len(s.pending)) }),
		erased: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_erased_total",
			Help: "Raw events erased on a visitor's withdrawal or request.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_erasure_failures_total",
			Help: "Failed erasure attempts (each is retried until it succeeds).",
		}),
	}
	if r := s.opts.Registerer; r != nil {
		r.MustRegister(s.metrics.pending, s.metrics.erased, s.metrics.failures)
	}
	return s
}

// Load reads the requests not yet done: pending rows, and withdrawals with
// no completion mark. Every request of the last MaxAge also keeps covering
// its events still in a spool, which this process may replay.
func (s *Service) Load(ctx context.Context) error {
	since := s.opts.Now().Add(-s.opts.MaxAge)
	rows, err := s.opts.Store.Erasures(ctx, since)
	if err != nil {
		return err
	}
	ws, err := s.opts.Store.Withdrawals(ctx, since)
	if err != nil {
		return err
	}
	marked := make(map[key]bool, len(rows))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range rows {
		k := key{e.ConsentID, e.Requested.Unix()}
		marked[k] = !e.Pending()
		s.coverLocked(k)
		if e.Pending() {
			s.addLocked(k)
		}
	}
	for _, w := range ws {
		k := key{w.ConsentID, w.Time.Unix()}
		s.coverLocked(k)
		if !marked[k] {
			s.addLocked(k)
		}
	}
	s.signal()
	return nil
}

// Withdrawn schedules the erasure of a consent id withdrawn at a time; the
// withdrawal's ledger record is the durable request. Call it after the
// record is written and the consent revoked.
func (s *Service) Withdrawn(id uuid.UUID, at time.Time) {
	k := key{id, at.Unix()}
	s.mu.Lock()
	s.coverLocked(k)
	s.addLocked(k)
	s.mu.Unlock()
	s.signal()
}

// Request records an erasure of a consent id's events received up to at,
// then schedules it. Once it returns, the erasure happens even if this
// process stops first: the next start finds it pending.
func (s *Service) Request(ctx context.Context, id uuid.UUID, at time.Time) error {
	at = at.UTC().Truncate(time.Second)
	if err := s.opts.Store.RecordErasure(ctx, store.Erasure{ConsentID: id, Requested: at}); err != nil {
		return err
	}
	k := key{id, at.Unix()}
	s.mu.Lock()
	s.coverLocked(k)
	s.addLocked(k)
	s.mu.Unlock()
	s.signal()
	return nil
}

// Again schedules another erasure of consent ids withdrawn elsewhere, as
// of at: this process may have written their events after the erasure
// there. It returns at once (the consent refresher calls it); the loop
// records each request before it erases, so it survives a stop from then
// on. Events this process still holds are dropped (the consent is
// revoked).
func (s *Service) Again(ids []uuid.UUID, at time.Time) {
	s.mu.Lock()
	for _, id := range ids {
		k := key{id, at.UTC().Truncate(time.Second).Unix()}
		if _, ok := s.pending[k]; !ok {
			s.pending[k] = &job{key: k, unrecorded: true}
		}
	}
	s.mu.Unlock()
	s.signal()
}

// Wait returns the outcome of the request for id at time at once it is
// done, or ctx's error first (the request stays scheduled).
func (s *Service) Wait(ctx context.Context, id uuid.UUID, at time.Time) (store.Erasure, error) {
	k := key{id, at.UTC().Truncate(time.Second).Unix()}
	for {
		s.mu.Lock()
		e, ok := s.done[k]
		_, waiting := s.pending[k]
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return e, nil
		}
		if !waiting {
			return store.Erasure{}, errors.New("no such erasure request")
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return store.Erasure{}, ctx.Err()
		}
	}
}

// Covers reports whether an event belongs to a consent whose erasure
// covers it (received up to the request): it must not be written.
func (s *Service) Covers(e *store.Event) bool {
	if e.ConsentID == uuid.Nil {
		return false
	}
	s.mu.Lock()
	at, ok := s.cutoff[e.ConsentID]
	s.mu.Unlock()
	return ok && e.ReceivedAt.Unix() <= at
}

// Pending is how many requests are not done yet.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

func (s *Service) coverLocked(k key) {
	if k.at > s.cutoff[k.id] {
		s.cutoff[k.id] = k.at
	}
}

func (s *Service) addLocked(k key) {
	if _, ok := s.pending[k]; !ok {
		s.pending[k] = &job{key: k}
	}
}

func (s *Service) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run works on pending requests until ctx ends, and reads requests made
// elsewhere every Poll. What is not done when ctx ends stays recorded and
// is done after the next start.
func (s *Service) Run(ctx context.Context) error {
	poll := time.NewTicker(s.opts.Poll)
	defer poll.Stop()
	for ctx.Err() == nil {
		next, wait := s.next()
		if next != nil {
			s.attempt(ctx, next)
			continue
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.wake:
		case <-timer.C:
		case <-poll.C:
			if err := s.poll(ctx); err != nil && ctx.Err() == nil {
				s.opts.Log.Warn("read erasure requests", "err", err)
			}
		}
		timer.Stop()
	}
	return nil
}

// Drain attempts every pending erasure once more, oldest first, until ctx
// ends. serve calls it in its shutdown, after Run returned and before the
// buffer stops, within the shutdown's deadline: an erasure scheduled
// moments before the stop (a withdrawal learnt from another replica) is
// then not left to the next start. What it cannot finish stays recorded.
func (s *Service) Drain(ctx context.Context) {
	s.mu.Lock()
	jobs := make([]*job, 0, len(s.pending))
	for _, j := range s.pending {
		jobs = append(jobs, j)
	}
	s.mu.Unlock()
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].at < jobs[b].at })
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		s.attempt(ctx, j)
	}
}

// next returns the oldest job due now, or how long until one is due.
func (s *Service) next() (*job, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	wait := time.Hour
	var due []*job
	for _, j := range s.pending {
		if d := j.retryAt.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		due = append(due, j)
	}
	if len(due) == 0 {
		return nil, wait
	}
	sort.Slice(due, func(a, b int) bool { return due[a].at < due[b].at })
	return due[0], 0
}

// poll reads pending rows written by other processes.
func (s *Service) poll(ctx context.Context) error {
	rows, err := s.opts.Store.Erasures(ctx, s.opts.Now().Add(-s.opts.MaxAge))
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, e := range rows {
		k := key{e.ConsentID, e.Requested.Unix()}
		s.coverLocked(k)
		if e.Pending() {
			if _, finished := s.done[k]; !finished {
				s.addLocked(k)
			}
		}
	}
	s.mu.Unlock()
	return nil
}

// attempt runs one job on the loop's context, bounded by Timeout: the
// request that asked for it may be gone. A shutdown cuts it off (a hung
// store must not hold the process); the job stays recorded for the next
// start.
func (s *Service) attempt(ctx context.Context, j *job) {
	actx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if j.unrecorded {
		err := s.opts.Store.RecordErasure(actx, store.Erasure{ConsentID: j.id, Requested: time.Unix(j.at, 0).UTC()})
		if err == nil {
			s.mu.Lock()
			j.unrecorded = false
			s.mu.Unlock()
		}
	}
	e, err := s.erase(actx, j.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		return // shutting down: the next start does it
	}
	if err != nil {
		j.backoff = min(max(2*j.backoff, minBackoff), maxBackoff)
		j.retryAt = time.Now().Add(j.backoff)
		s.metrics.failures.Inc()
		s.opts.Log.Warn("erasure failed, retrying", "retry_in", j.backoff, "err", err)
		return
	}
	delete(s.pending, j.key)
	for k, old := range s.done { // only fresh outcomes have waiters
		if e.Done.Sub(old.Done) > keepDone {
			delete(s.done, k)
		}
	}
	s.done[j.key] = e
	close(s.changed)
	s.changed = make(chan struct{})
}

// erase deletes the events, then marks the request done.
func (s *Service) erase(ctx context.Context, k key) (store.Erasure, error) {
	if err := s.opts.Settle(ctx); err != nil {
		return store.Erasure{}, err
	}
	n, err := s.opts.Store.EraseEventsByConsent(ctx, k.id)
	if err != nil {
		return store.Erasure{}, err
	}
	s.metrics.erased.Add(float64(n))
	e := store.Erasure{ConsentID: k.id, Requested: time.Unix(k.at, 0).UTC(), Done: s.opts.Now().UTC().Truncate(time.Second), Erased: n}
	if err := s.opts.Store.RecordErasure(ctx, e); err != nil {
		// Erased but not marked: the next attempt erases nothing more and
		// marks it.
		return store.Erasure{}, fmt.Errorf("mark erasure done: %w", err)
	}
	return e, nil
}

// Do records an erasure, runs it at once and returns its outcome: for a
// process without a Run loop (the CLI). If it fails after the record, a
// serve process's loop finishes it.
func (s *Service) Do(ctx context.Context, id uuid.UUID, at time.Time) (store.Erasure, error) {
	if err := s.Request(ctx, id, at); err != nil {
		return store.Erasure{}, err
	}
	k := key{id, at.UTC().Truncate(time.Second).Unix()}
	e, err := s.erase(ctx, k)
	if err != nil {
		return store.Erasure{}, err
	}
	s.mu.Lock()
	delete(s.pending, k)
	s.mu.Unlock()
	return e, nil
}
