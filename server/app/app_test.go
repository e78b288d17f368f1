package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// TestShutdownStoresWhatItAccepted runs the product as serve does, on a
// real listener and store, with a flush interval longer than the test:
// every event accepted before the shutdown is in the store after Run
// returns (HTTP stopped first, then the buffer drained on a fresh
// context), and nothing is accepted after.
func TestShutdownStoresWhatItAccepted(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	site, err := st.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	product, err := app.New(ctx, app.Options{Store: st, Buffer: collector.BufferOptions{FlushInterval: time.Hour, DrainTimeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- product.Run(runCtx, app.Listeners{Addr: ln}, time.Minute) }()

	post := func(path, body string) (*http.Response, error) {
		return http.Post(base+path, "application/json", strings.NewReader(body))
	}
	resp, err := post("/api/consent", `{"site":"example.test","categories":{"analytics":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	var decision struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&decision)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("consent: %d %v", resp.StatusCode, err)
	}
	const n = 50
	for i := range n {
		resp, err := post("/api/event", fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/%d","token":%q}`, i, decision.Token))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("event %d: %d, want 202", i, resp.StatusCode)
		}
	}
	if got := product.Buffer.Len(); got != n {
		t.Errorf("queued before the shutdown: %d, want %d (the flush interval is an hour)", got, n)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := post("/api/event", `{}`); err == nil {
		t.Error("a request after the shutdown was answered, want the listener closed")
	}
	events, err := st.Events(ctx, store.EventQuery{SiteID: site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n {
		t.Errorf("stored after the shutdown: %d events, want the %d accepted", len(events), n)
	}
}
