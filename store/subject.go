package store

import (
	"time"

	"github.com/google/uuid"
)

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

// Label names a subject in receipts, answers and the audit log: the
// consent id, "user_id" (never the user id itself), or the site of an IP
// (never the IP). domain is the site of an IP subject.
func (s Subject) Label(domain string) string {
	switch {
	case s.ConsentID != uuid.Nil:
		return "consent:" + s.ConsentID.String()
	case s.UserID != "":
		return "user_id"
	}
	return "ip on " + domain
}

// Access answers a subject access request: every raw event held about the
// subject (a visitor's own, an administrator's or the CLI's request).
type Access struct {
	Subject   string    `json:"subject"`             // Subject.Label
	ConsentID uuid.UUID `json:"consent_id,omitzero"` // for a consent id
	Events    []Event   `json:"events"`
}

// The states of an erasure in a Receipt.
const (
	ErasureDone      = "erased"    // the events are gone
	ErasureScheduled = "scheduled" // recorded and still running: it finishes regardless
)

// Receipt tells whoever asked what an erasure removed, and when: a
// visitor (erasure or withdrawal), an administrator or the CLI. The audit
// log keeps it as the detail of an erase.
type Receipt struct {
	Subject   string    `json:"subject"`             // Subject.Label
	ConsentID uuid.UUID `json:"consent_id,omitzero"` // for a consent id
	// Withdrawn: the consent is withdrawn (by this request or before).
	Withdrawn    bool      `json:"withdrawn"`
	Erasure      string    `json:"erasure"` // ErasureDone or ErasureScheduled
	ErasedEvents int64     `json:"erased_events"`
	ErasedAt     time.Time `json:"erased_at,omitzero"`
	Scope        string    `json:"scope"` // what was erased: "raw events"
	// ConsentRecord says what happens to the consent's ledger records,
	// for a consent id.
	ConsentRecord string `json:"consent_record,omitempty"`
}
