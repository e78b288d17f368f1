package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// AuditBackend is what the audit suite exercises.
type AuditBackend interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error)
}

// RunAudit checks that audit entries round-trip in time order within a range
// and a limit. open must return a store with an empty audit log.
func RunAudit(t *testing.T, open func(t *testing.T) AuditBackend) {
	b := open(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)
	want := []store.AuditEntry{
		{Time: at, Actor: "user:0123456789abcdef", Action: "login", Target: "0123456789abcdef", Detail: `{}`},
		{Time: at.Add(time.Hour), Actor: "cli", Action: "token_create", Target: "fedcba9876543210", Detail: `{"role":"analyst"}`},
		{Time: at.Add(2 * time.Hour), Actor: "cli", Action: "erase", Target: "consent:x", Detail: `{"events":3}`},
	}
	for _, e := range []store.AuditEntry{want[2], want[0], want[1]} {
		if err := b.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	got, err := b.AuditLog(ctx, at, at.Add(3*time.Hour), 100)
	if err != nil {
		t.Fatalf("AuditLog: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
	if got, _ := b.AuditLog(ctx, at.Add(time.Minute), at.Add(3*time.Hour), 1); len(got) != 1 || got[0].Action != "token_create" {
		t.Errorf("range and limit: %+v", got)
	}
}
