package collector

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/footfall/footfall/httpapi"
)

// clientLimiter limits requests per client: an IPv4 address, or an IPv6
// /64 (one subscriber's network: a client changing addresses inside it is
// one client). It remembers at most max clients; the one unseen for longest
// is forgotten first, which costs it nothing it had not regained by then
// unless max clients came after it.
type clientLimiter struct {
	limit rate.Limit
	burst int
	max   int

	mu      sync.Mutex
	clients map[netip.Prefix]*list.Element // of *clientEntry
	lru     list.List                      // front: most recently seen
}

type clientEntry struct {
	key netip.Prefix
	lim *rate.Limiter
}

func newClientLimiter(perMinute, burst, max int) *clientLimiter {
	return &clientLimiter{limit: rate.Limit(float64(perMinute) / 60), burst: burst, max: max, clients: map[netip.Prefix]*list.Element{}}
}

// allow takes one request of client a at now. When refused, wait is how long
// until the next one is allowed.
func (l *clientLimiter) allow(a netip.Addr, now time.Time) (ok bool, wait time.Duration) {
	key := httpapi.ClientPrefix(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	var e *clientEntry
	if el, found := l.clients[key]; found {
		l.lru.MoveToFront(el)
		e = el.Value.(*clientEntry)
	} else {
		if l.lru.Len() >= l.max {
			oldest := l.lru.Back()
			delete(l.clients, oldest.Value.(*clientEntry).key)
			l.lru.Remove(oldest)
		}
		e = &clientEntry{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = l.lru.PushFront(e)
	}
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// size is how many clients are remembered.
func (l *clientLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
