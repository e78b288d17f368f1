package chtest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

func TestMain(m *testing.M) {
	os.Exit(chtest.Main(m))
}

// TestStopRestart stops the server under an open store and starts it again:
// the store fails while it is down, recovers by itself, and the data stays.
func TestStopRestart(t *testing.T) {
	opts := chtest.NewDatabase(t)
	if os.Getenv("FOOTFALL_TEST_CLICKHOUSE") != "" {
		t.Skip("the server is not chtest's own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := clickhouse.Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	site, err := s.AddSite(ctx, "restart.example")
	if err != nil {
		t.Fatalf("AddSite: %v", err)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e := store.Event{ID: uuid.New(), SiteID: site.ID, Type: store.Pageview, Time: at, ReceivedAt: at, Path: "/"}
	if err := s.InsertEvents(ctx, []store.Event{e}); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}

	if err := chtest.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with the server stopped: got no error")
	}
	if err := chtest.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after Restart: %v", err)
	}
	got, err := s.Events(ctx, store.EventQuery{SiteID: site.ID, From: at, To: at.Add(time.Hour)})
	if err != nil {
		t.Fatalf("Events after Restart: %v", err)
	}
	if len(got) != 1 || got[0].ID != e.ID {
		t.Errorf("Events after Restart: got %d events, want the one inserted before", len(got))
	}
	if chtest.Addr() != opts.Addr[0] {
		t.Errorf("Addr after Restart: got %s, want %s", chtest.Addr(), opts.Addr[0])
	}
}
