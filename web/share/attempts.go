package share

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Password attempts allowed: per client (an IPv4 address or IPv6 /64) and
// link, 5 at once, then one a minute; per link from all clients together,
// 30 at once, then one every 10 seconds. An attempt counts when it
// arrives, before its password is checked, so attempts sent at once count
// one each. A guesser from many addresses thus makes at most 8,640
// guesses a day against a link, and a password must pass zxcvbn's "safely
// unguessable" (10^8 guesses); it can also keep the link's real viewers
// from unlocking it meanwhile (revoke and replace the link).
var (
	clientLimit = limit{rate.Every(time.Minute), 5}
	linkLimit   = limit{rate.Every(10 * time.Second), 30}
)

type limit struct {
	every rate.Limit
	burst int
}

// maxTracked bounds the keys remembered (attempt limiters, audited views);
// past it the key unseen for longest is forgotten first.
const maxTracked = 10000

// attempts holds a token bucket per key, least recently used dropped first.
type attempts struct {
	mu   sync.Mutex
	keys map[string]*list.Element // of *attempt
	lru  list.List                // front: most recently used
}

type attempt struct {
	key string
	lim *rate.Limiter
}

func newAttempts() *attempts { return &attempts{keys: map[string]*list.Element{}} }

// take takes one attempt of key at now under l. When refused, wait is how
// long until the next one is allowed.
func (a *attempts) take(key string, l limit, now time.Time) (ok bool, wait time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var e *attempt
	if el, found := a.keys[key]; found {
		a.lru.MoveToFront(el)
		e = el.Value.(*attempt)
	} else {
		if a.lru.Len() >= maxTracked {
			oldest := a.lru.Back()
			a.lru.Remove(oldest)
			delete(a.keys, oldest.Value.(*attempt).key)
		}
		e = &attempt{key: key, lim: rate.NewLimiter(l.every, l.burst)}
		a.keys[key] = a.lru.PushFront(e)
	}
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
