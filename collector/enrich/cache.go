package enrich

import "sync"

// clock is a fixed-capacity map with CLOCK (second-chance) eviction: an
// approximation of LRU whose memory is bounded by its capacity however many
// distinct keys pass through it. It is safe for concurrent use.
//
// Entries live in a slice allocated once; the index map never holds more than
// capacity keys, so neither grows past its first fill.
type clock[K comparable, V any] struct {
	mu      sync.Mutex
	index   map[K]int32
	entries []clockEntry[K, V]
	hand    int
}

type clockEntry[K comparable, V any] struct {
	key   K
	value V
	used  bool // referenced since the hand last passed
}

func newClock[K comparable, V any](capacity int) *clock[K, V] {
	if capacity < 1 {
		capacity = 1
	}
	return &clock[K, V]{
		index:   make(map[K]int32, capacity),
		entries: make([]clockEntry[K, V], 0, capacity),
	}
}

// Get returns the value cached for k and marks it recently used.
func (c *clock[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.index[k]
	if !ok {
		var zero V
		return zero, false
	}
	e := &c.entries[i]
	e.used = true
	return e.value, true
}

// Put stores v under k, evicting an entry that was not used since the hand
// last passed it when the cache is full.
func (c *clock[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, v)
}

// Update stores f(old, found) under k in one step and returns it.
func (c *clock[K, V]) Update(k K, f func(old V, found bool) V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[k]; ok {
		e := &c.entries[i]
		e.value = f(e.value, true)
		e.used = true
		return e.value
	}
	var zero V
	v := f(zero, false)
	c.putLocked(k, v)
	return v
}

func (c *clock[K, V]) putLocked(k K, v V) {
	if i, ok := c.index[k]; ok {
		c.entries[i].value = v
		c.entries[i].used = true
		return
	}
	if len(c.entries) < cap(c.entries) {
		c.index[k] = int32(len(c.entries))
		c.entries = append(c.entries, clockEntry[K, V]{key: k, value: v})
		return
	}
	// Full: sweep, giving each used entry a second chance. Terminates
	// within two turns because every pass clears the bit it skips.
	for {
		e := &c.entries[c.hand]
		if !e.used {
			break
		}
		e.used = false
		c.hand = (c.hand + 1) % len(c.entries)
	}
	e := &c.entries[c.hand]
	delete(c.index, e.key)
	*e = clockEntry[K, V]{key: k, value: v}
	c.index[k] = int32(c.hand)
	c.hand = (c.hand + 1) % len(c.entries)
}

// Len is the number of cached entries; never more than the capacity.
func (c *clock[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}
