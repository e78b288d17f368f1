package pace

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// The work of a slice is a fake-clock sleep: in a synctest bubble the
// clock moves only while every goroutine waits, so the pauses are exact.
func TestYieldPausesInProportion(t *testing.T) {
	for _, tc := range []struct {
		name  string
		share float64
		work  time.Duration
		want  time.Duration
	}{
		{"half", 0.5, time.Millisecond, time.Millisecond},
		{"quarter", 0.25, time.Millisecond, 3 * time.Millisecond},
		{"all", 1, time.Millisecond, 0},
		{"capped", 0.1, 2 * time.Millisecond, maxPause},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := New(Share(context.Background()), tc.share)
				defer p.Stop()
				for i := range 3 {
					time.Sleep(tc.work)
					start := time.Now()
					if err := p.Yield(context.Background()); err != nil {
						t.Fatalf("slice %d: Yield: %v", i, err)
					}
					if got := time.Since(start); got != tc.want {
						t.Errorf("slice %d: paused %v after %v of work, want %v", i, got, tc.work, tc.want)
					}
				}
			})
		})
	}
}

func TestYieldReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Microsecond)
		defer cancel()
		p := New(Share(ctx), 0.5)
		defer p.Stop()
		time.Sleep(time.Millisecond)
		start := time.Now()
		err := p.Yield(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Yield: got %v, want %v", err, context.DeadlineExceeded)
		}
		// 1ms of work asks for a 1ms pause; the context ends halfway.
		if got, want := time.Since(start), 500*time.Microsecond; got != want {
			t.Errorf("Yield returned after %v, want %v (when the context ended)", got, want)
		}
	})
}

// A job whose context is not marked by Share runs at full speed: no
// pause, whatever its slices took.
func TestUnsharedJobsDoNotPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(context.Background(), 0.25)
		defer p.Stop()
		for i := range 3 {
			time.Sleep(time.Millisecond)
			start := time.Now()
			if err := p.Yield(context.Background()); err != nil {
				t.Fatalf("slice %d: Yield: %v", i, err)
			}
			if got := time.Since(start); got != 0 {
				t.Errorf("slice %d: an unshared job paused %v", i, got)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Yield(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Yield under a cancelled context: got %v, want %v", err, context.Canceled)
		}
	})
}
