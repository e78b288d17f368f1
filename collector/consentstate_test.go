package collector_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"

	"github.com/footfall/footfall/store"
)

// withdrawalSource is a ConsentStore of one key and the withdrawals added
// to it (a unit-test fake: the two-process test runs the real stores).
type withdrawalSource struct {
	key store.ConsentKey
	mu  sync.Mutex
	ws  []store.ConsentChange
}

func (s *withdrawalSource) ConsentKeys(context.Context) ([]store.ConsentKey, error) {
	return []store.ConsentKey{s.key}, nil
}

func (s *withdrawalSource) AddConsentKey(context.Context, store.ConsentKey) error { return nil }

func (s *withdrawalSource) ConsentChanges(_ context.Context, since time.Time) ([]store.ConsentChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.ConsentChange
	for _, w := range s.ws {
		if !w.Time.Before(since) {
			out = append(out, w)
		}
	}
	return out, nil
}

// A learnt withdrawal is erased on a live context even when the refresh's
// own is cancelled (a shutdown beginning), and an erasure that fails is
// tried again on the next refresh, not forgotten.
func TestLearntWithdrawalsAreErasedUntilDone(t *testing.T) {
	key, err := consent.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	src := &withdrawalSource{key: key}
	cs, err := collector.LoadConsentState(context.Background(), src, time.Hour, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]uuid.UUID
	failures := 1
	cs.OnLearnt(func(ctx context.Context, ids []uuid.UUID) error {
		if ctx.Err() != nil {
			t.Errorf("learnt got a cancelled context: %v", ctx.Err())
		}
		calls = append(calls, ids)
		if failures > 0 {
			failures--
			return errors.New("store down")
		}
		return nil
	})
	w := uuid.New()
	src.mu.Lock()
	src.ws = append(src.ws, store.ConsentChange{ConsentID: w, Time: time.Now(), Withdrawn: true})
	src.mu.Unlock()

	stopping, cancel := context.WithCancel(context.Background())
	cancel()
	if err := cs.Refresh(stopping); err == nil {
		t.Error("Refresh hid the failed erasure")
	}
	if !cs.Revoked(w) {
		t.Error("the withdrawn consent is not refused while its erasure waits")
	}
	if err := cs.Refresh(context.Background()); err != nil {
		t.Errorf("second Refresh: %v", err)
	}
	if err := cs.Refresh(context.Background()); err != nil {
		t.Errorf("third Refresh: %v", err)
	}
	want := [][]uuid.UUID{{w}, {w}}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Errorf("learnt called with %v, want %v (once failing, once retried, then done)", calls, want)
	}
}
