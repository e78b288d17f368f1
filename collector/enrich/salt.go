package enrich

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/store"
)

// Salt rotation timing.
const (
	// SaltRefreshInterval is how often Run re-reads the salts from the
	// store, so that every replica converges on the same salt of a day.
	SaltRefreshInterval = time.Minute
	// SaltPrecreate is how long before UTC midnight Run creates the next
	// day's salt, keeping that store write off the request path.
	SaltPrecreate = time.Hour
)

// SaltStore keeps the daily salts that every collector replica shares. The
// store package's backends implement it.
//
// AddSalt may keep several salts of one day (a store without unique keys) or
// refuse a second one (an error); either way every replica then uses the
// salt of that day with the earliest Created time (ties broken by the
// secret's bytes), as Salts returns it.
//
// Replicas agree at once when Created order is the order the store took the
// salts in: a store may set Created from its own clock on insert (a
// DEFAULT now64() column, SQLite's clock) and return that. With Created as
// the collectors set it, skewed clocks can make two racing replicas choose
// differently until Run's next refresh (SaltRefreshInterval); since Run
// creates each day's salt SaltPrecreate ahead, that happens before the salt
// is used.
type SaltStore interface {
	// Salts returns every salt kept, in any order.
	Salts(ctx context.Context) ([]store.Salt, error)
	// AddSalt keeps a new salt.
	AddSalt(ctx context.Context, s store.Salt) error
	// DeleteSaltsBefore destroys every salt whose Day is before day.
	DeleteSaltsBefore(ctx context.Context, day time.Time) error
}

// ErrNoSalt wraps the store error that left an event without a
// salted visitor key.
var ErrNoSalt = errors.New("no visitor-key salt")

// daySalt is a day's chosen salt with a pool of keyed hashes under it.
type daySalt struct {
	day     time.Time
	created time.Time
	secret  []byte
	pool    sync.Pool // *keyer
}

// keyer is a reusable HMAC state and input buffer.
type keyer struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

func newDaySalt(s store.Salt) *daySalt {
	d := &daySalt{day: s.Day, created: s.Created, secret: bytes.Clone(s.Secret)}
	d.pool.New = func() any { return &keyer{mac: hmac.New(sha256.New, d.secret)} }
	return d
}

// key returns HMAC-SHA256(secret, parts…) truncated to 64 bits; fill
// appends the input to the buffer it is given.
func (d *daySalt) key(fill func([]byte) []byte) uint64 {
	k := d.pool.Get().(*keyer)
	k.mac.Reset()
	k.in = fill(k.in[:0])
	k.mac.Write(k.in)
	sum := k.mac.Sum(k.sum[:0])
	v := binary.BigEndian.Uint64(sum)
	if cap(k.in) <= 4<<10 {
		d.pool.Put(k)
	}
	return v
}

// saltSet is an immutable snapshot of the salts in use, by UTC day.
type saltSet map[time.Time]*daySalt

// salts keeps the daily salts in memory and in step with the store.
type salts struct {
	store SaltStore
	now   func() time.Time
	log   *slog.Logger
	cur   atomic.Pointer[saltSet]
	io    chan struct{} // one store conversation at a time
	// expired: the last reload saw a stored salt of a day before
	// oldestKept (read and written under io).
	expired bool

	retryAt atomic.Int64 // unix ns before which requests do not ask the store
}

func newSalts(store SaltStore, now func() time.Time, log *slog.Logger) *salts {
	s := &salts{store: store, now: now, log: log, io: make(chan struct{}, 1)}
	s.cur.Store(&saltSet{})
	return s
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// saltRetryAfter is how long requests stop asking the store for a missing
// salt after it failed, so that an outage does not put a store round trip
// on every request; Run keeps trying on its own schedule.
const saltRetryAfter = 5 * time.Second

// forDay returns the salt of day from memory, creating it in the store on
// the first need (Run normally has done that ahead of time).
func (s *salts) forDay(ctx context.Context, day time.Time) (*daySalt, error) {
	if d := (*s.cur.Load())[day]; d != nil {
		return d, nil
	}
	if until := s.retryAt.Load(); until != 0 && s.now().UnixNano() < until {
		return nil, errors.New("salt store failed moments ago; not retrying yet")
	}
	d, err := s.ensure(ctx, day)
	if err != nil && ctx.Err() == nil {
		s.retryAt.Store(s.now().Add(saltRetryAfter).UnixNano())
	}
	return d, err
}

func (s *salts) lock(ctx context.Context) error {
	select {
	case s.io <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *salts) unlock() { <-s.io }

// ensure makes sure the store holds a salt for day and memory knows the one
// every replica will use.
func (s *salts) ensure(ctx context.Context, day time.Time) (*daySalt, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.unlock()
	return s.ensureLocked(ctx, day)
}

func (s *salts) ensureLocked(ctx context.Context, day time.Time) (*daySalt, error) {
	if d := (*s.cur.Load())[day]; d != nil {
		return d, nil
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	if d := (*s.cur.Load())[day]; d != nil {
		return d, nil
	}
	secret := make([]byte, store.SaltSize)
	rand.Read(secret) // never fails: crypto/rand aborts the program instead
	addErr := s.store.AddSalt(ctx, store.Salt{Day: day, Secret: secret, Created: s.now().UTC()})
	// Read back whatever the store kept: another replica may have added a
	// salt for the same day first, and then that one is the day's salt.
	if err := s.reload(ctx); err != nil {
		return nil, errors.Join(addErr, err)
	}
	d := (*s.cur.Load())[day]
	switch {
	case d != nil:
		if addErr == nil && bytes.Equal(d.secret, secret) {
			s.log.Info("created visitor-key salt", "day", day.Format(time.DateOnly))
		} else {
			s.log.Info("using visitor-key salt another replica created", "day", day.Format(time.DateOnly))
		}
		return d, nil
	case addErr != nil:
		return nil, fmt.Errorf("add salt of %s: %w", day.Format(time.DateOnly), addErr)
	}
	return nil, fmt.Errorf("salt of %s missing from the store after adding it", day.Format(time.DateOnly))
}

// reload replaces the in-memory salts with the store's, choosing for each
// day the salt created first and forgetting days past retention.
func (s *salts) reload(ctx context.Context) error {
	all, err := s.store.Salts(ctx)
	if err != nil {
		return fmt.Errorf("read salts: %w", err)
	}
	old := *s.cur.Load()
	oldest := s.oldestKept()
	s.expired = false
	chosen := map[time.Time]store.Salt{}
	bad := 0
	for _, x := range all {
		if len(x.Secret) != store.SaltSize {
			bad++
			continue
		}
		day := utcDay(x.Day)
		if day.Before(oldest) {
			s.expired = true
			continue
		}
		if c, ok := chosen[day]; !ok || x.Created.Before(c.Created) ||
			(x.Created.Equal(c.Created) && bytes.Compare(x.Secret, c.Secret) < 0) {
			x.Day = day
			chosen[day] = x
		}
	}
	if bad > 0 {
		s.log.Warn("ignoring salts of the wrong size", "count", bad, "want_bytes", store.SaltSize)
	}
	next := make(saltSet, len(chosen))
	for day, x := range chosen {
		if d := old[day]; d != nil && bytes.Equal(d.secret, x.Secret) {
			next[day] = d // keep its pool of keyed hashes
			continue
		}
		if d := old[day]; d != nil {
			s.log.Info("switching to the earlier salt of a day", "day", day.Format(time.DateOnly))
		}
		next[day] = newDaySalt(x)
	}
	s.cur.Store(&next)
	return nil
}

// oldestKept is the first day whose salt is kept: yesterday. A salt is
// destroyed once its day is over by a whole day, at most 48 hours after
// its day began, so yesterday's keys cannot be recomputed for long.
func (s *salts) oldestKept() time.Time {
	return utcDay(s.now()).AddDate(0, 0, -1)
}

// refresh is one turn of Run: reload from the store, make sure today's salt
// exists (and tomorrow's, close to midnight), destroy expired ones.
func (s *salts) refresh(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	var errs []error
	reloadErr := s.reload(ctx)
	if reloadErr != nil {
		errs = append(errs, reloadErr)
	}
	now := s.now().UTC()
	today := utcDay(now)
	if _, err := s.ensureLocked(ctx, today); err != nil {
		errs = append(errs, err)
	}
	tomorrow := today.AddDate(0, 0, 1)
	if !now.Before(tomorrow.Add(-SaltPrecreate)) {
		if _, err := s.ensureLocked(ctx, tomorrow); err != nil {
			errs = append(errs, err)
		}
	}
	// Destroying is a mutation (on a ClickHouse cluster, a DDL task every
	// node runs in turn): only when the store holds an expired salt, or
	// could not be read. Once a minute per collector, for nothing, it
	// queued ahead of the aggregator's deletes on a cluster.
	if reloadErr != nil || s.expired {
		if err := s.store.DeleteSaltsBefore(ctx, s.oldestKept()); err != nil {
			errs = append(errs, fmt.Errorf("delete old salts: %w", err))
		}
	}
	return errors.Join(errs...)
}
