// Package subject serves a data subject's rights over their raw events:
// access (every event held, in store.Event's one JSON shape) and erasure
// (with one receipt, store.Receipt). The visitor endpoints
// (collector: GET and DELETE /api/consent/{id}/data, a withdrawal), the
// admin API (web/admin) and the CLI (footfall access, footfall erase) all
// call a Service; each keeps only its own way of naming and authorising
// the subject, and of answering.
//
// It lives under collector because a consent id's erasure is the
// collector's durable erasure work (collector/erasure), which also drops
// the subject's events still on their way to the store; web and cmd, above
// it, call it; the types it answers with are the model's (store).
package subject

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Store reads and erases a subject's raw events.
type Store interface {
	SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error)
	EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
}

// Options configure a Service.
type Options struct {
	Store Store
	// Erasures erases a consent id's events as durable work: recorded,
	// then driven to done by serve's loop. nil erases them through Store
	// like any other subject's.
	Erasures *erasure.Service
	// Inline is for a process that runs no erasure loop (the CLI): a
	// consent id's erasure is recorded, then done at once and waited for.
	Inline bool
	// Flush writes out the collector's queued events, so that erasing a
	// user id or an IP also covers events accepted a moment before; nil
	// when nothing is queued in this process.
	Flush func(ctx context.Context) error
	Now   func() time.Time
}

// Service answers access and erasure requests.
type Service struct {
	opts Options
}

// New returns a service.
func New(opts Options) *Service {
	if opts.Flush == nil {
		opts.Flush = func(context.Context) error { return nil }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts}
}

// How long a request waits for a consent id's erasure before its receipt
// says "scheduled" (the erasure loop finishes it regardless): a visitor's
// page a little, an administrator's tool longer.
const (
	VisitorWait = 10 * time.Second
	AdminWait   = 30 * time.Second
)

// Access returns every raw event held about sub; label names it
// (store.Subject.Label).
func (s *Service) Access(ctx context.Context, sub store.Subject, label string) (store.Access, error) {
	events, err := s.opts.Store.SubjectEvents(ctx, sub)
	if err != nil {
		return store.Access{}, err
	}
	if events == nil {
		events = []store.Event{}
	}
	return store.Access{Subject: label, ConsentID: sub.ConsentID, Events: events}, nil
}

// Erase erases every raw event of sub and says what it removed. A consent
// id's erasure is recorded first and waited for up to wait; a user id's
// or an IP's is done at once, after the queue is written out.
func (s *Service) Erase(ctx context.Context, sub store.Subject, label string, wait time.Duration) (store.Receipt, error) {
	now := s.opts.Now().UTC().Truncate(time.Second)
	r := store.Receipt{Subject: label, ConsentID: sub.ConsentID, Scope: "raw events"}
	if sub.ConsentID != uuid.Nil && s.opts.Erasures != nil {
		if s.opts.Inline {
			// Recorded first: if this fails, a serve process finishes it.
			e, err := s.opts.Erasures.Do(ctx, sub.ConsentID, now)
			if err != nil {
				return store.Receipt{}, err
			}
			return done(r, e), nil
		}
		if err := s.opts.Erasures.Request(ctx, sub.ConsentID, now); err != nil {
			return store.Receipt{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not record the erasure request, retry later", Err: err}
		}
		return s.wait(ctx, r, now, wait), nil
	}
	if err := s.opts.Flush(ctx); err != nil {
		return store.Receipt{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not erase now, retry later", Err: err}
	}
	n, err := s.opts.Store.EraseSubject(ctx, sub)
	if err != nil {
		return store.Receipt{}, err
	}
	return done(r, store.Erasure{Done: now, Erased: n}), nil
}

// Withdrawn has the raw events of a consent id withdrawn at a time erased
// and says how far it got within wait. Call it once the withdrawal's
// ledger record, the durable request, is written and the consent revoked.
func (s *Service) Withdrawn(ctx context.Context, id uuid.UUID, at time.Time, wait time.Duration) store.Receipt {
	s.opts.Erasures.Withdrawn(id, at)
	sub := store.Subject{ConsentID: id}
	r := s.wait(ctx, store.Receipt{Subject: sub.Label(""), ConsentID: id, Scope: "raw events"}, at, wait)
	r.Withdrawn = true
	r.ConsentRecord = "kept in the consent ledger as proof of the withdrawal"
	return r
}

// wait waits up to d for the erasure of r's consent id requested at at.
func (s *Service) wait(ctx context.Context, r store.Receipt, at time.Time, d time.Duration) store.Receipt {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	e, err := s.opts.Erasures.Wait(ctx, r.ConsentID, at)
	if err != nil {
		r.Erasure = store.ErasureScheduled
		return r
	}
	return done(r, e)
}

func done(r store.Receipt, e store.Erasure) store.Receipt {
	r.Erasure, r.ErasedEvents, r.ErasedAt = store.ErasureDone, e.Erased, e.Done
	return r
}
