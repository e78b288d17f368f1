package erasure_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// testStore is a real backend as the tests use it.
type testStore interface {
	erasure.Store
	InsertEvents(ctx context.Context, events []store.Event) error
	EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error)
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
}

var backends = []struct {
	name string
	open func(t *testing.T) testStore
}{
	{"sqlite", func(t *testing.T) testStore {
		return sqlitetest.Open(t)
	}},
	{"clickhouse", func(t *testing.T) testStore {
		st, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// events stores n events of a consent received at a time.
func events(t *testing.T, st testStore, id uuid.UUID, at time.Time, n int) {
	t.Helper()
	var evs []store.Event
	for range n {
		evs = append(evs, store.Event{ID: uuid.New(), SiteID: 1, Type: store.Pageview, Time: at, ReceivedAt: at, Host: "example.test", Path: "/", ConsentID: id, Consent: store.ConsentAnalytics})
	}
	if err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func stored(t *testing.T, st testStore, id uuid.UUID) int {
	t.Helper()
	evs, err := st.EventsByConsent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// run starts a service's loop until the test ends.
func run(t *testing.T, s *erasure.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// A process records erasures and stops before doing them (a withdrawal in
// the ledger, a visitor's request): the next process finds both pending at
// its start and erases them; done ones are not pending again.
func TestPendingErasuresSurviveARestart(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			leaver, asker, stayer := uuid.New(), uuid.New(), uuid.New()
			for _, id := range []uuid.UUID{leaver, asker, stayer} {
				events(t, st, id, now.Add(-time.Minute), 3)
			}
			// The withdrawal is in the ledger; its process died before the
			// erasure (nothing else is recorded for it).
			chain := consent.NewChain(uuid.New())
			rec := store.ConsentRecord{SiteID: 1, ConsentID: leaver, Time: now, Action: store.ConsentWithdraw, Language: "en", PolicyVersion: 1}
			if err := chain.Append(&rec, func(r *store.ConsentRecord) error { return st.AppendConsent(ctx, *r) }); err != nil {
				t.Fatal(err)
			}
			// The visitor's request is recorded by a process that stops
			// before its loop runs.
			if err := erasure.New(erasure.Options{Store: st}).Request(ctx, asker, now); err != nil {
				t.Fatal(err)
			}

			next := erasure.New(erasure.Options{Store: st})
			if err := next.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if got := next.Pending(); got != 2 {
				t.Errorf("pending at the start: %d, want 2", got)
			}
			// Events still on their way are covered, later ones are not.
			for _, tt := range []struct {
				id   uuid.UUID
				at   time.Time
				want bool
			}{
				{leaver, now, true}, {asker, now.Add(-time.Second), true}, {asker, now.Add(time.Second), false}, {stayer, now, false},
			} {
				if got := next.Covers(&store.Event{ConsentID: tt.id, ReceivedAt: tt.at}); got != tt.want {
					t.Errorf("covers an event received %v after the request: %v, want %v", tt.at.Sub(now), got, tt.want)
				}
			}
			run(t, next)
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			for _, id := range []uuid.UUID{leaver, asker} {
				e, err := next.Wait(wctx, id, now)
				if err != nil {
					t.Fatalf("wait: %v", err)
				}
				if e.Erased != 3 || e.Done.IsZero() {
					t.Errorf("outcome %+v, want 3 erased", e)
				}
				if n := stored(t, st, id); n != 0 {
					t.Errorf("%d events left", n)
				}
			}
			if n := stored(t, st, stayer); n != 3 {
				t.Errorf("another consent's events: %d left, want 3", n)
			}

			third := erasure.New(erasure.Options{Store: st})
			if err := third.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if got := third.Pending(); got != 0 {
				t.Errorf("pending after they were done: %d, want 0", got)
			}
		})
	}
}

// flaky fails its first erasures, as a store in an outage does.
type flaky struct {
	erasure.Store
	failures atomic.Int32
}

func (f *flaky) EraseEventsByConsent(ctx context.Context, id uuid.UUID) (int64, error) {
	if f.failures.Add(-1) >= 0 {
		return 0, errors.New("store unavailable")
	}
	return f.Store.EraseEventsByConsent(ctx, id)
}

// A failing erasure is retried until it succeeds, and the request's
// context ending (the client hung up) does not stop it.
func TestFailedErasureIsRetried(t *testing.T) {
	st := backends[0].open(t)
	now := time.Now().UTC().Truncate(time.Second)
	id := uuid.New()
	events(t, st, id, now, 2)
	f := &flaky{Store: st}
	f.failures.Store(3)
	s := erasure.New(erasure.Options{Store: f})
	run(t, s)
	reqCtx, hangUp := context.WithCancel(context.Background())
	if err := s.Request(reqCtx, id, now); err != nil {
		t.Fatal(err)
	}
	hangUp()
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := s.Wait(wctx, id, now)
	if err != nil {
		t.Fatal(err)
	}
	if e.Erased != 2 || stored(t, st, id) != 0 {
		t.Errorf("outcome %+v, %d left; want 2 erased, none left", e, stored(t, st, id))
	}
	if f.failures.Load() >= 0 {
		t.Errorf("the store was asked fewer times than it failed")
	}
}

// A shutdown while an erasure is pending ends the loop at once; the
// request stays for the next start.
func TestRunStopsWithPendingErasures(t *testing.T) {
	st := backends[0].open(t)
	f := &flaky{Store: st}
	f.failures.Store(1 << 30) // the store never erases
	s := erasure.New(erasure.Options{Store: f})
	if err := s.Request(context.Background(), uuid.New(), time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run still running 20s after its context ended, with an erasure pending")
	}
	if s.Pending() != 1 {
		t.Errorf("pending after the stop: %d, want 1", s.Pending())
	}
}
