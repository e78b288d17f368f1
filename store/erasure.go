package store

import (
	"time"

	"github.com/google/uuid"
)

// Erasure is a request to erase the raw events of one consent id: a
// visitor's withdrawal (the ledger holds the request; its row here is the
// completion mark) or a visitor's or an administrator's erasure request
// (recorded here as pending first). It is durable work: written down before
// it is attempted and driven to done by the serve process's erasure loop,
// across restarts.
type Erasure struct {
	ConsentID uuid.UUID
	// Requested is when it was asked for, second precision; for a
	// withdrawal, the time of its ledger record. Events the collector
	// received up to then are erased, those still on their way dropped.
	Requested time.Time
	// Done is when the erasure finished; zero while it is pending.
	Done time.Time
	// Erased is how many raw events it deleted.
	Erased int64
}

// Pending reports whether the erasure has not finished yet.
func (e Erasure) Pending() bool { return e.Done.IsZero() }
