package collector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/links"

	"github.com/footfall/footfall/store"
)

// ConsentStore is where the signing keys and withdrawals live, shared by
// every collector replica.
type ConsentStore interface {
	ConsentKeys(ctx context.Context) ([]store.ConsentKey, error)
	AddConsentKey(ctx context.Context, k store.ConsentKey) error
	ConsentChanges(ctx context.Context, since time.Time) ([]store.ConsentChange, error)
}

// ConsentState is a collector's view of the shared consent state: the keys
// that sign and verify tokens, and the latest decision of every consent id
// that was updated or withdrawn. The beacon path reads it from memory; Run
// refreshes it from the store every Refresh, which bounds how long an
// update or a withdrawal made on another replica takes to reach this one.
type ConsentState struct {
	src     ConsentStore
	keys    *consent.Keyring
	links   *links.Signer
	refresh time.Duration
	log     *slog.Logger

	// learnt is told of withdrawals this collector learns from the store,
	// made on another replica after this one's start.
	learnt func(ctx context.Context, ids []uuid.UUID) error
	// unerased are learnt withdrawals whose erasure failed: retried on the
	// next refresh. Only Refresh touches it (Run calls it from one
	// goroutine).
	unerased []uuid.UUID

	// maxAge is the longest any token lives: a head older than that binds
	// no token any more and is forgotten, which bounds heads.
	maxAge time.Duration

	mu    sync.RWMutex
	heads map[uuid.UUID]store.ConsentHead
	next  time.Time // where the next read of changes starts
}

// Each read of withdrawals starts this long before the previous read did, so
// a withdrawal written by a replica whose clock lags a little is not missed.
const withdrawalOverlap = 10 * time.Second

// learntTimeout bounds the erasure of learnt withdrawals. It runs on a
// context of its own: a shutdown that begins meanwhile must not cut it off
// after this replica wrote the events and before it erased them.
const learntTimeout = 30 * time.Second

// LoadConsentState reads the keys and every update and withdrawal younger
// than maxAge (older tokens have expired anyway). With no usable key it creates one, so a
// fresh store signs from the first run.
func LoadConsentState(ctx context.Context, src ConsentStore, maxAge, refresh time.Duration, log *slog.Logger) (*ConsentState, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if refresh <= 0 {
		refresh = 2 * time.Second
	}
	keys, err := src.ConsentKeys(ctx)
	if err != nil {
		return nil, err
	}
	if !hasActive(keys) {
		k, err := consent.NewKey(time.Now())
		if err != nil {
			return nil, fmt.Errorf("create consent key: %w", err)
		}
		if err := src.AddConsentKey(ctx, k); err != nil {
			return nil, err
		}
		log.Info("created a consent token signing key", "kid", k.ID)
		keys = append(keys, k)
	}
	ring, err := consent.NewKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("consent keys: %w", err)
	}
	s := &ConsentState{src: src, keys: ring, links: links.NewSigner(keys), refresh: refresh, log: log, maxAge: maxAge, heads: map[uuid.UUID]store.ConsentHead{}}
	if _, err := s.readChanges(ctx, time.Now().Add(-maxAge)); err != nil {
		return nil, err
	}
	return s, nil
}

// OnLearnt sets what to do about withdrawals made on another replica once
// this one reads them (call it before Run). The collector erases them again:
// this replica may have written events of those consents after the
// erasure on the replica that took the withdrawal.
func (s *ConsentState) OnLearnt(fn func(ctx context.Context, ids []uuid.UUID) error) {
	s.learnt = fn
}

func hasActive(keys []store.ConsentKey) bool {
	for _, k := range keys {
		if !k.Retired {
			return true
		}
	}
	return false
}

// Keyring signs and verifies tokens.
func (s *ConsentState) Keyring() *consent.Keyring { return s.keys }

// Links signs and verifies e-mail link tokens, under keys derived from the
// same signing keys (rotated and retired with them).
func (s *ConsentState) Links() *links.Signer { return s.links }

// Revoked reports whether a consent id was withdrawn.
func (s *ConsentState) Revoked(id uuid.UUID) bool {
	h, _ := s.Head(id)
	return h.Withdrawn
}

// Head returns the latest known update or withdrawal of a consent id; ok
// is false when there is none (its first decision is its only one).
func (s *ConsentState) Head(id uuid.UUID) (h store.ConsentHead, ok bool) {
	s.mu.RLock()
	h, ok = s.heads[id]
	s.mu.RUnlock()
	return h, ok
}

// Note applies a change made here at once; other replicas learn it from the
// ledger within Refresh.
func (s *ConsentState) Note(c store.ConsentChange) {
	s.mu.Lock()
	s.heads[c.ConsentID] = s.heads[c.ConsentID].Apply(c)
	s.mu.Unlock()
}

// Heads is how many consent ids have a known update or withdrawal.
func (s *ConsentState) Heads() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.heads)
}

// Run refreshes keys and withdrawals until ctx ends. A failed refresh is
// logged and retried on the next tick: the state in memory stays valid.
func (s *ConsentState) Run(ctx context.Context) error {
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("consent state refresh failed", "err", err)
			}
		}
	}
}

// Refresh reads new keys, retirements and withdrawals from the store.
func (s *ConsentState) Refresh(ctx context.Context) error {
	keys, err := s.src.ConsentKeys(ctx)
	if err != nil {
		return err
	}
	if err := s.keys.Replace(keys); err != nil {
		return fmt.Errorf("consent keys: %w", err)
	}
	s.links.Replace(keys)
	s.mu.RLock()
	since := s.next
	s.mu.RUnlock()
	fresh, err := s.readChanges(ctx, since)
	if err != nil || s.learnt == nil {
		return err
	}
	ids := append(s.unerased, fresh...)
	if len(ids) == 0 {
		return nil
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), learntTimeout)
	defer cancel()
	if err := s.learnt(lctx, ids); err != nil {
		s.unerased = ids
		return fmt.Errorf("withdrawals from other collectors (retried on the next refresh): %w", err)
	}
	s.unerased = nil
	return nil
}

// readChanges reads updates and withdrawals since a time, forgets heads
// older than maxAge, and returns the consent ids this collector did not know
// were withdrawn.
func (s *ConsentState) readChanges(ctx context.Context, since time.Time) ([]uuid.UUID, error) {
	started := time.Now()
	cs, err := s.src.ConsentChanges(ctx, since)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var fresh []uuid.UUID
	for _, c := range cs {
		old := s.heads[c.ConsentID]
		s.heads[c.ConsentID] = old.Apply(c)
		if c.Withdrawn && !old.Withdrawn {
			fresh = append(fresh, c.ConsentID)
		}
	}
	s.prune(started)
	s.next = started.Add(-withdrawalOverlap)
	return fresh, nil
}

// prune forgets the heads older than maxAge: every token of such a consent
// id was issued before its head and has expired. A withdrawn id is refused
// still by the ledger check of an update; its tokens are dead anyway. s.mu
// is held.
func (s *ConsentState) prune(now time.Time) {
	if s.maxAge <= 0 {
		return
	}
	cutoff := now.Add(-s.maxAge)
	for id, h := range s.heads {
		if h.Time.Before(cutoff) {
			delete(s.heads, id)
		}
	}
}
