package store

import "time"

// RetentionPlan says what is past its keeping time: events before
// EventsBefore are deleted, the raw IP of events before IPBefore is cleared
// (the rest of the row stays), consent ledger records before LedgerBefore
// are deleted. A zero time keeps that class.
type RetentionPlan struct {
	EventsBefore time.Time
	IPBefore     time.Time
	LedgerBefore time.Time
}

// RetentionResult counts what a retention run removed, or would remove in a
// dry run.
type RetentionResult struct {
	Events        int64 `json:"events_deleted"`
	Visits        int64 `json:"visits_deleted"` // visit rows, which go with the raw events
	IPs           int64 `json:"ips_cleared"`
	LedgerRecords int64 `json:"ledger_records_deleted"`
}
