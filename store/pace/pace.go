// Package pace lets a long job (a batch write to the store) share a core
// with request goroutines without delaying them.
//
// runtime.Gosched is not enough for that on a busy core. It puts the
// goroutine on the global run queue, and Go's scheduler looks there
// before it polls the network: once the requests it had already woken
// are served, the yielding goroutine runs again, and connections whose
// next request has arrived are found only by sysmon's network poll,
// every 10 ms. A job that yields with Gosched between slices thus holds
// the core for 10 ms stretches, which was the beacon's latency tail
// (#22). A Pacer yields by sleeping instead: while it sleeps the run
// queues empty, the scheduler polls the network, and the requests run.
package pace

import (
	"context"
	"time"
)

// maxPause bounds one pause, whatever the slice before it took (a slice
// the OS descheduled looks long).
const maxPause = 5 * time.Millisecond

// A Pacer spaces the slices of a job so that the job takes at most its
// share of the wall time while it runs. A nil Pacer never pauses; a
// Pacer is for one goroutine.
type Pacer struct {
	ratio float64 // pause per unit of work: (1-share)/share
	since time.Time
	timer *time.Timer
}

type sharedKey struct{}

// Share marks ctx as the context of a job that shares its core with
// request goroutines (the collector's writer): the store writes under it
// pace themselves. Unmarked jobs (the shutdown's final flush, seeding,
// imports) run at full speed.
func Share(ctx context.Context) context.Context {
	return context.WithValue(ctx, sharedKey{}, true)
}

// New returns a Pacer for a job under ctx whose work takes about share
// (0 < share <= 1) of the time: after a slice of work of d, Yield pauses
// d*(1-share)/share. The first slice is counted from New. It returns
// nil, which never pauses, unless ctx is marked by Share.
func New(ctx context.Context, share float64) *Pacer {
	if shared, _ := ctx.Value(sharedKey{}).(bool); !shared {
		return nil
	}
	share = min(max(share, 0.01), 1)
	return &Pacer{ratio: (1 - share) / share, since: time.Now()}
}

// Yield ends a slice of work: it pauses in proportion to the time since
// the previous Yield (or New), at most maxPause, and returns ctx's error
// if ctx ends first.
func (p *Pacer) Yield(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	d := min(time.Duration(float64(time.Since(p.since))*p.ratio), maxPause)
	if d > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(d)
		} else {
			p.timer.Reset(d)
		}
		select {
		case <-p.timer.C:
		case <-ctx.Done():
			p.timer.Stop()
			return ctx.Err()
		}
	}
	p.since = time.Now()
	return ctx.Err()
}

// Stop releases the Pacer's timer.
func (p *Pacer) Stop() {
	if p != nil && p.timer != nil {
		p.timer.Stop()
	}
}
