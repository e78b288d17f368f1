package store

import "github.com/google/uuid"

// Subject names whose raw events an operator erases or exports: the events
// of a consent id, of a signed-in user id, or of a raw IP on one site. An
// IP finds only events whose raw IP is still kept (see retention); the
// truncated IP is never used, as it is shared with other visitors.
type Subject struct {
	ConsentID uuid.UUID
	UserID    string
	IP        string
	SiteID    uint32 // with IP
}
