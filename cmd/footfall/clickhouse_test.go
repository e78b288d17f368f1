package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// The quick start on ClickHouse: site add creates and migrates the database,
// serve stores what it accepts, and the events are there after shutdown.
func TestServeStoresEventOnClickHouse(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn)
	token := grant(t, addr, "example.test")
	const n = 7
	for i := range n {
		body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/p%d","referrer":"https://news.example/","token":%q}`, i%2, token)
		if code := postEvent(t, addr, body); code != http.StatusAccepted {
			t.Fatalf("post: %d, want 202", code)
		}
	}
	code, errOut := stop()
	if code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errOut)
	}
	// Several collectors share a ClickHouse store: serve neither creates a
	// first admin nor aggregates unless asked, but says how to get in.
	if strings.Contains(errOut, "password:") || strings.Contains(errOut, "aggregating in-process") || !strings.Contains(errOut, "footfall user add") {
		t.Errorf("on ClickHouse serve created an admin, aggregated, or gave no sign-in hint:\n%s", errOut)
	}
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site, err := st.SiteByDomain(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.PageviewCounts(ctx, store.CountQuery{SiteID: site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), By: store.ByPath})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Count{{Key: "/p0", Pageviews: 4}, {Key: "/p1", Pageviews: 3}}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts by path = %v, want %v", counts, want)
	}
}
