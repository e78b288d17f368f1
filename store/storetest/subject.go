package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// SubjectBackend is what the subject suite exercises.
type SubjectBackend interface {
	Backend
	SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error)
	EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
}

// RunSubjects checks that an operator finds and erases exactly a subject's
// events, by consent id, user id, or raw IP on one site.
func RunSubjects(t *testing.T, open func(t *testing.T) SubjectBackend) {
	b := open(t)
	ctx := context.Background()
	site, other := addSite(t, b).ID, addSite(t, b).ID
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	consentID, user, ip := uuid.New(), "user-"+uuid.NewString()[:8], "198.51.100.77"
	var events []store.Event
	add := func(siteID uint32, edit func(e *store.Event)) {
		e := fullEvent(siteID, at.Add(time.Duration(len(events))*time.Minute))
		e.ConsentID, e.UserID, e.IP = uuid.New(), "someone-else", "203.0.113.1"
		edit(&e)
		events = append(events, e)
	}
	add(site, func(e *store.Event) { e.ConsentID = consentID })
	add(site, func(e *store.Event) { e.ConsentID = consentID })
	add(site, func(e *store.Event) { e.UserID = user })
	add(other, func(e *store.Event) { e.UserID = user })
	add(site, func(e *store.Event) { e.IP = ip })
	add(other, func(e *store.Event) { e.IP = ip }) // another site: not the subject
	add(site, func(e *store.Event) {})             // nobody's
	if err := b.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sub  store.Subject
		want int
	}{
		{"consent id", store.Subject{ConsentID: consentID}, 2},
		{"user id", store.Subject{UserID: user}, 2},
		{"ip on a site", store.Subject{IP: ip, SiteID: site}, 1},
	}
	for _, tt := range tests {
		got, err := b.SubjectEvents(ctx, tt.sub)
		if err != nil || len(got) != tt.want {
			t.Errorf("%s: found %d (%v), want %d", tt.name, len(got), err, tt.want)
		}
		n, err := b.EraseSubject(ctx, tt.sub)
		if err != nil || n != int64(tt.want) {
			t.Errorf("%s: erased %d (%v), want %d", tt.name, n, err, tt.want)
		}
		if left, err := b.SubjectEvents(ctx, tt.sub); err != nil || len(left) != 0 {
			t.Errorf("%s: %d left after erasure (%v)", tt.name, len(left), err)
		}
	}
	if _, err := b.SubjectEvents(ctx, store.Subject{IP: ip}); err == nil {
		t.Error("an IP without a site: got no error")
	}
	left := 0
	for _, s := range []uint32{site, other} {
		got, err := b.Events(ctx, store.EventQuery{SiteID: s, From: at, To: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		left += len(got)
	}
	if left != 2 {
		t.Errorf("%d events left in all, want the 2 that were nobody's subject", left)
	}
}
