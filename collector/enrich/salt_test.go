package enrich

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

const testUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func visitorKey(t *testing.T, e *Enricher) (uint64, uint8) {
	t.Helper()
	var ev store.Event
	req := Request{Remote: "198.51.100.7:1", Header: uaHeader(testUA), Page: mustURL(t, "https://example.com/"), SiteID: 1}
	if err := e.Enrich(context.Background(), req, &ev); err != nil {
		t.Fatalf("Enrich: %v", err)
	}
	return ev.VisitorKey, ev.KeyVersion
}

// TestSaltRotation runs Run in a synctest bubble, whose clock starts at
// 2000-01-01 00:00 UTC and jumps when every goroutine waits.
func TestSaltRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		salts := &memSalts{}
		e := newTestEnricher(t, Options{Salts: salts}) // Now: the bubble's time.Now
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		synctest.Wait()

		if got, want := salts.days(), []string{"2000-01-01"}; !cmp.Equal(got, want) {
			t.Errorf("after start: salts of %v, want %v", got, want)
		}
		day1, v := visitorKey(t, e)
		if v != KeyDailySalt {
			t.Fatalf("KeyVersion = %d, want %d", v, KeyDailySalt)
		}
		if again, _ := visitorKey(t, e); again != day1 {
			t.Error("same visitor, same day: key changed")
		}

		// Before midnight Run has created tomorrow's salt.
		time.Sleep(24*time.Hour - SaltPrecreate + time.Minute)
		synctest.Wait()
		if got, want := salts.days(), []string{"2000-01-01", "2000-01-02"}; !cmp.Equal(got, want) {
			t.Errorf("at %s: salts of %v, want %v", time.Now().UTC().Format(time.TimeOnly), got, want)
		}
		if k, _ := visitorKey(t, e); k != day1 {
			t.Error("tomorrow's salt in use before midnight")
		}

		time.Sleep(SaltPrecreate) // now on day 2
		synctest.Wait()
		// Nothing has expired yet: no refresh asked the store to destroy
		// (a mutation, on a ClickHouse cluster a DDL task on every node).
		salts.mu.Lock()
		if salts.deletes != 0 {
			t.Errorf("%d deletes of old salts before any salt expired, want 0", salts.deletes)
		}
		salts.mu.Unlock()
		day2, _ := visitorKey(t, e)
		if day2 == day1 {
			t.Error("same visitor on the next day: same key")
		}

		// 48 hours after day 1 began its salt is gone, from the store and
		// from memory.
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		if got, want := salts.days(), []string{"2000-01-02", "2000-01-03"}; !cmp.Equal(got, want) {
			t.Errorf("after 48 h: salts of %v, want %v", got, want)
		}
		if _, ok := (*e.salts.cur.Load())[time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)]; ok {
			t.Error("after 48 h: day 1's salt still in memory")
		}
		day3, _ := visitorKey(t, e)
		if day3 == day1 || day3 == day2 {
			t.Error("day 3 reuses an earlier key")
		}

		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// TestSaltPrecreatedOffHotPath: once Run has created the next day's salt,
// the first events after midnight cause no store I/O even if Run is gone.
func TestSaltPrecreatedOffHotPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		salts := &memSalts{}
		e := newTestEnricher(t, Options{Salts: salts})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		time.Sleep(23*time.Hour + 30*time.Minute)
		synctest.Wait()
		cancel()
		<-done

		time.Sleep(time.Hour) // past midnight, Run stopped
		calls := salts.callCount()
		visitorKey(t, e)
		if got := salts.callCount(); got != calls {
			t.Errorf("Enrich after midnight made %d store calls, want 0", got-calls)
		}
	})
}

// TestSaltReplicasRace: two replicas find no salt for the day and both add
// one at once; both key with the same salt straight away, whichever of them
// re-reads first, when the store stamps Created or refuses a second salt.
// (Collector-stamped Created under clock skew: TestSaltReplicasSkewConverge.)
func TestSaltReplicasRace(t *testing.T) {
	for _, unique := range []bool{false, true} {
		name := "store keeps both"
		if unique {
			name = "store refuses the second"
		}
		t.Run(name, func(t *testing.T) {
			salts := &memSalts{unique: unique, stamp: true}
			var arrived sync.WaitGroup
			arrived.Add(2)
			salts.beforeAdd = func() { arrived.Done(); arrived.Wait() } // both have read an empty store
			now := time.Date(2025, 6, 1, 0, 0, 1, 0, time.UTC)
			a := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now }})
			b := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now.Add(time.Second) }})
			var evA, evB store.Event
			var errA, errB error
			req := Request{Remote: "198.51.100.7:1", Header: uaHeader(testUA), Page: mustURL(t, "https://example.com/")}
			var wg sync.WaitGroup
			wg.Go(func() { errA = a.Enrich(t.Context(), req, &evA) })
			wg.Go(func() { errB = b.Enrich(t.Context(), req, &evB) })
			wg.Wait()
			if errA != nil || errB != nil {
				t.Fatalf("Enrich: %v, %v", errA, errB)
			}
			if evA.VisitorKey != evB.VisitorKey {
				t.Errorf("replicas disagree: %x and %x", evA.VisitorKey, evB.VisitorKey)
			}
			if n := len(salts.days()); n != map[bool]int{false: 2, true: 1}[unique] {
				t.Errorf("store holds %d salts", n)
			}
		})
	}
}

// TestSaltReplicasSkewConverge: replica A adds and uses its salt; replica B,
// whose clock is behind, adds a second one with an earlier Created time and
// uses that. On its next refresh A switches to B's: they converge.
func TestSaltReplicasSkewConverge(t *testing.T) {
	salts := &memSalts{}
	now := time.Date(2025, 6, 1, 0, 0, 5, 0, time.UTC)
	a := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now }})
	keyA, _ := visitorKey(t, a)

	// B read the store before A's salt landed, so it adds its own.
	b := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now.Add(-3 * time.Second) }})
	day := utcDay(now)
	b.salts.cur.Store(&saltSet{})
	if err := salts.AddSalt(t.Context(), store.Salt{Day: day, Secret: make([]byte, store.SaltSize), Created: now.Add(-3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	keyB, _ := visitorKey(t, b)
	if keyA == keyB {
		t.Fatal("test setup: replicas already agree")
	}
	if err := a.salts.refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if keyA2, _ := visitorKey(t, a); keyA2 != keyB {
		t.Errorf("after refresh: A keys %x, B keys %x", keyA2, keyB)
	}
}

func TestSaltStoreOutage(t *testing.T) {
	salts := &memSalts{fail: errors.New("store down")}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	e := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now }})
	var ev store.Event
	err := e.Enrich(t.Context(), Request{Remote: "198.51.100.7:1", Header: uaHeader(testUA), Page: mustURL(t, "https://example.com/x")}, &ev)
	if !errors.Is(err, ErrNoSalt) {
		t.Fatalf("Enrich error %v, want ErrNoSalt", err)
	}
	if ev.Path != "/x" || ev.Browser != "Chrome" || ev.VisitorKey != 0 || ev.KeyVersion != 0 || ev.SessionID != 0 {
		t.Errorf("want all but visitor key and session filled, got %+v", ev)
	}
	if e.Stats().SaltFailures != 1 {
		t.Errorf("SaltFailures = %d, want 1", e.Stats().SaltFailures)
	}
	// The next requests do not hammer the failed store…
	calls := salts.callCount()
	for range 10 {
		if err := e.Enrich(t.Context(), Request{Remote: "198.51.100.7:1", Header: uaHeader(testUA), Page: mustURL(t, "https://example.com/x")}, &ev); !errors.Is(err, ErrNoSalt) {
			t.Fatalf("Enrich error %v, want ErrNoSalt", err)
		}
	}
	if got := salts.callCount() - calls; got != 0 {
		t.Errorf("%d store calls within the retry pause, want 0", got)
	}
	// …and once it is back and the pause is over, keys return.
	salts.mu.Lock()
	salts.fail = nil
	salts.mu.Unlock()
	now = now.Add(saltRetryAfter)
	if _, v := visitorKey(t, e); v != KeyDailySalt {
		t.Errorf("store back: KeyVersion %d, want %d", v, KeyDailySalt)
	}
}

func TestSaltWrongSizeIgnored(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	salts := &memSalts{salts: []store.Salt{{Day: utcDay(now), Secret: []byte("short"), Created: now.Add(-time.Hour)}}}
	e := newTestEnricher(t, Options{Salts: salts, Now: func() time.Time { return now }})
	if _, v := visitorKey(t, e); v != KeyDailySalt {
		t.Fatalf("KeyVersion %d, want %d", v, KeyDailySalt)
	}
	d := (*e.salts.cur.Load())[utcDay(now)]
	if d == nil || len(d.secret) != store.SaltSize {
		t.Errorf("in use: %v, want a new %d-byte salt", d, store.SaltSize)
	}
}
