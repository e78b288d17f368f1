package enrich

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"
)

func TestClockBasics(t *testing.T) {
	c := newClock[string, int](3)
	for i, k := range []string{"a", "b", "c"} {
		c.Put(k, i)
	}
	if v, ok := c.Get("a"); !ok || v != 0 {
		t.Fatalf("Get(a) = %d, %v; want 0, true", v, ok)
	}
	// "a" was used since the hand passed; "b" was not: "b" goes first.
	c.Put("d", 3)
	if _, ok := c.Get("b"); ok {
		t.Error("b survived although a was used more recently")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	c.Put("a", 10)
	if v, _ := c.Get("a"); v != 10 {
		t.Errorf("Put over an existing key: Get = %d, want 10", v)
	}
	if got := c.Update("e", func(old int, found bool) int { return 5 }); got != 5 {
		t.Errorf("Update of a new key = %d, want 5", got)
	}
	if got := c.Update("e", func(old int, found bool) int { return old + 1 }); got != 6 {
		t.Errorf("Update of an existing key = %d, want 6", got)
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
}

// TestClockCapHolds puts a million distinct keys through a small cache,
// while a hot key is read in between: the size never passes the cap, the
// hot key stays, and the heap after the run is about what the full cache
// needs, not what a million entries would.
func TestClockCapHolds(t *testing.T) {
	const capacity, distinct = 1000, 1_000_000
	c := newClock[string, uaInfo](capacity)
	c.Put("hot", uaInfo{browser: "Chrome"})
	before := heapInUse()
	for i := range distinct {
		c.Put("Mozilla/5.0 (X11; Linux x86_64) Test/"+strconv.Itoa(i), uaInfo{browser: "Firefox", browserVersion: strconv.Itoa(i % 200)})
		if i%(capacity/4) == 0 {
			if _, ok := c.Get("hot"); !ok {
				t.Fatalf("hot key evicted after %d puts", i)
			}
		}
		if c.Len() > capacity {
			t.Fatalf("after %d puts: %d entries, cap %d", i+1, c.Len(), capacity)
		}
	}
	after := heapInUse()
	t.Logf("heap in use: %s before, %s after %d distinct keys (cap %d)", mib(before), mib(after), distinct, capacity)
	if grown := int64(after) - int64(before); grown > 4<<20 {
		t.Errorf("heap grew by %s for a %d-entry cache", mib(uint64(grown)), capacity)
	}
	runtime.KeepAlive(c)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
