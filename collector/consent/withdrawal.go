package consent

import (
	"time"

	"github.com/google/uuid"
)

// Withdrawal is a consent id withdrawn at Time. From then on its tokens are
// rejected and its raw events erased.
type Withdrawal struct {
	ConsentID uuid.UUID
	Time      time.Time
}

// Change is a ledger decision that replaces an earlier one of the same
// consent id: an update (Granted is what it now allows) or a withdrawal.
// Collectors learn them from the store, so that on every replica a token
// grants at most what the latest decision of its consent id grants.
type Change struct {
	ConsentID uuid.UUID
	Time      time.Time
	Granted   Categories
	Withdrawn bool
}

// Head is what the latest known decision of a consent id allows: tokens
// issued up to Time grant at most Granted, none if Withdrawn.
type Head struct {
	Time      time.Time
	Granted   Categories
	Withdrawn bool
}

// Apply folds a change into h (the zero Head knows nothing yet). A newer
// change replaces h; a change of the same second narrows it to what both
// allow, since their order is unknown across replicas; an older one is
// ignored. A withdrawal is for good.
func (h Head) Apply(c Change) Head {
	switch t := c.Time.UTC().Truncate(time.Second); {
	case h.Time.IsZero() || t.After(h.Time):
		h.Time, h.Granted = t, c.Granted
	case t.Equal(h.Time):
		h.Granted &= c.Granted
	}
	if c.Withdrawn || h.Withdrawn {
		h.Withdrawn, h.Granted = true, 0
	}
	return h
}
