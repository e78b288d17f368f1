package store

import (
	"time"

	"github.com/google/uuid"
)

// PartnerRelease is a partner's release of a window as it was served: it
// is computed once (with fresh noise), then every request for the window
// gets these bytes, and its epsilon counts against the partner's privacy
// budget of the period it was made in.
type PartnerRelease struct {
	ID       uuid.UUID // breaks ties of CreatedAt between replicas
	Partner  string
	From, To string // the window's days, inclusive, YYYY-MM-DD
	Epsilon  float64
	Created  time.Time // UTC, second precision
	Body     []byte    // the release, as JSON; empty in listings
}
