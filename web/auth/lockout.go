package auth

import (
	"sync"
	"time"
)

// lockout counts failed logins per key (an account or a client address)
// and locks a key that failed too often: after the after-th consecutive
// failure for base, doubling with every further failure up to max. A
// key's failures are forgotten forget after its last one, or when reset.
// It remembers at most limit keys; a new key past the limit first drops
// the forgotten ones, then the one whose last failure is oldest.
//
// It lives in memory: a restart, or another replica, starts from zero.
// That bounds how fast one process can be guessed against, which is the
// point; it is not a ledger.
type lockout struct {
	after             int
	base, max, forget time.Duration
	limit             int

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n       int
	last    time.Time
	judging int // attempts counted by start whose password is still being checked
}

func newLockout(after int, base, maxLock, forget time.Duration, limit int) *lockout {
	return &lockout{after: after, base: base, max: maxLock, forget: forget, limit: limit, keys: map[string]*failures{}}
}

// wait returns how long key stays locked at now; 0 if it is not locked.
func (l *lockout) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil || f.n < l.after {
		return 0
	}
	return max(0, f.last.Add(l.lockFor(f.n)).Sub(now))
}

// lockFor is how long n failures lock a key.
func (l *lockout) lockFor(n int) time.Duration {
	d := l.base
	for i := l.after; i < n && d < l.max; i++ {
		d *= 2
	}
	return min(d, l.max)
}

// fail records a failure of key at now.
func (l *lockout) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f != nil && now.Sub(f.last) > l.forget {
		f.n = 0
	}
	if f == nil {
		if len(l.keys) >= l.limit {
			l.evict(now)
		}
		f = &failures{}
		l.keys[key] = f
	}
	f.n++
	f.last = now
}

// start records a failure of key at now for an attempt about to be
// judged; done must follow once it is.
func (l *lockout) start(key string, now time.Time) {
	l.fail(key, now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.keys[key]; f != nil {
		f.judging++
	}
}

// done ends an attempt begun by start, however it was judged.
func (l *lockout) done(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.keys[key]; f != nil && f.judging > 0 {
		f.judging--
	}
}

// undo takes back one failure of key: an attempt counted before it was
// judged (see Auth.reserve) that turned out not to be one.
func (l *lockout) undo(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.keys[key]; f != nil && f.n > 0 {
		f.n--
	}
}

// reset forgets key's failures after a success judged between start and
// done, but for the other attempts still being judged: each was counted
// as a failure in advance and stands until it is judged. Forgetting those
// too would let attempts sent beside a right guess go unlimited.
func (l *lockout) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.keys[key]
	if f == nil {
		return
	}
	if others := f.judging - 1; others > 0 {
		f.n = others
		return
	}
	delete(l.keys, key)
}

// evict makes room for one key. Called with mu held, only when the table
// is full, so its linear scans are rare.
func (l *lockout) evict(now time.Time) {
	for k, f := range l.keys {
		if now.Sub(f.last) > l.forget {
			delete(l.keys, k)
		}
	}
	if len(l.keys) < l.limit {
		return
	}
	var oldest string
	var at time.Time
	for k, f := range l.keys {
		if oldest == "" || f.last.Before(at) {
			oldest, at = k, f.last
		}
	}
	delete(l.keys, oldest)
}
