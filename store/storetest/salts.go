package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
)

// SaltBackend is what the salt suite exercises.
type SaltBackend interface {
	Salts(ctx context.Context) ([]store.Salt, error)
	AddSalt(ctx context.Context, s store.Salt) error
	DeleteSaltsBefore(ctx context.Context, day time.Time) error
}

// RunSalts checks that daily salts round-trip and that deleting destroys
// exactly the salts of earlier days. open must return an empty salt table.
func RunSalts(t *testing.T, open func(t *testing.T) SaltBackend) {
	b := open(t)
	ctx := context.Background()
	day := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	var added []store.Salt
	for i := range 3 {
		s := store.Salt{Day: day.AddDate(0, 0, i), Secret: bytes.Repeat([]byte{byte(i + 1)}, 32), Created: day.AddDate(0, 0, i).Add(-time.Hour)}
		if err := b.AddSalt(ctx, s); err != nil {
			t.Fatalf("AddSalt: %v", err)
		}
		added = append(added, s)
	}
	got, err := b.Salts(ctx)
	if err != nil {
		t.Fatalf("Salts: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("Salts returned %d, want 3", len(got))
	}
	for i := range got {
		if !got[i].Day.Equal(added[i].Day) || !bytes.Equal(got[i].Secret, added[i].Secret) || !got[i].Created.Equal(added[i].Created) {
			t.Errorf("salt %d = %+v, want %+v", i, got[i], added[i])
		}
	}
	if err := b.DeleteSaltsBefore(ctx, day.AddDate(0, 0, 2)); err != nil {
		t.Fatalf("DeleteSaltsBefore: %v", err)
	}
	got, err = b.Salts(ctx)
	if err != nil {
		t.Fatalf("Salts: %v", err)
	}
	if len(got) != 1 || !got[0].Day.Equal(day.AddDate(0, 0, 2)) {
		t.Errorf("after deleting salts before %s: %+v, want only that day's", day.AddDate(0, 0, 2).Format(time.DateOnly), got)
	}
}
