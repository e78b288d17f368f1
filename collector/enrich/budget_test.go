package enrich

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
)

// A client that sends a new user agent with every request has a few of
// them parsed, then its events are flagged bot (ua_churn) without parsing;
// another client, and a user agent already known, are not held back; the
// budget refills with time.
func TestUAParseBudget(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	e := newTestEnricher(t, Options{Now: func() time.Time { return now }, UAParsesPerMinute: DefaultUAParsesPerMinute})
	page := mustURL(t, "https://example.com/")
	enrich := func(remote, ua string) store.Event {
		t.Helper()
		h := http.Header{}
		h.Set("User-Agent", ua)
		var ev store.Event
		if err := e.Enrich(context.Background(), Request{Remote: remote, Header: h, Page: page, SiteID: 1, Site: SiteRules{Domain: "example.com"}}, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	churn := func(i int) string {
		return "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0." + strconv.Itoa(i) + ".0 Safari/537.36"
	}
	parsed, refused := 0, 0
	for i := range 150 {
		ev := enrich("198.51.100.7:4000", churn(i))
		switch {
		case ev.Browser == "Chrome" && !ev.Bot:
			parsed++
		case ev.Bot && ev.BotReason == BotUAChurn && ev.Browser == "":
			refused++
		default:
			t.Fatalf("event %d: browser %q bot %v %q", i, ev.Browser, ev.Bot, ev.BotReason)
		}
	}
	if parsed != DefaultUAParseBurst || refused != 150-DefaultUAParseBurst {
		t.Errorf("one client, 150 new user agents: %d parsed, %d refused; want %d parsed", parsed, refused, DefaultUAParseBurst)
	}
	if got := e.Stats().UAParsesRefused; got != uint64(refused) {
		t.Errorf("Stats().UAParsesRefused = %d, want %d", got, refused)
	}
	// The same /64 is the same client; another address is not.
	if ev := enrich("[2001:db8::1]:4000", churn(1000)); ev.Bot {
		t.Errorf("another client's new user agent: bot %q", ev.BotReason)
	}
	// A user agent parsed before is known, whoever sends it.
	if ev := enrich("198.51.100.7:4000", churn(3)); ev.Bot || ev.Browser != "Chrome" {
		t.Errorf("a known user agent from the spent client: browser %q bot %q", ev.Browser, ev.BotReason)
	}
	// A refused one was not cached as a bot for others.
	if ev := enrich("192.0.2.9:4000", churn(99)); ev.Bot || ev.Browser != "Chrome" {
		t.Errorf("a user agent refused to another client: browser %q bot %q", ev.Browser, ev.BotReason)
	}
	// 100 ms later one more parse is allowed (600 a minute).
	now = now.Add(100 * time.Millisecond)
	if ev := enrich("198.51.100.7:4000", churn(2000)); ev.Bot {
		t.Errorf("after 100 ms: bot %q, want parsed", ev.BotReason)
	}
	if ev := enrich("198.51.100.7:4000", churn(2001)); !ev.Bot {
		t.Errorf("a second parse within those 100 ms was allowed")
	}
}
