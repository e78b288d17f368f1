package enrich

import (
	"context"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"testing"

	"github.com/x-way/crawlerdetect"

	"github.com/footfall/footfall/store"
)

// benchRequests are realistic beacons: real browsers' UAs (cache hits after
// the first round), a search referrer, campaign tagging, an allowed query.
func benchRequests(b *testing.B) []Request {
	b.Helper()
	uas := []string{
		testUA,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.135 Mobile Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	page := mustURL(b, "https://www.example.com/products/shoes/?q=red&utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=Cj0KCQiA&session=abc")
	ref := mustURL(b, "https://www.google.com/search?q=red+shoes")
	site := SiteRules{Domain: "example.com", AllowedQuery: []string{"q"}}
	var reqs []Request
	for i := range 256 {
		h := http.Header{}
		h.Set("User-Agent", uas[i%len(uas)])
		remote := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), 40000).String()
		reqs = append(reqs, Request{Remote: remote, Header: h, Page: page, Referrer: ref, SiteID: 1, Site: site})
	}
	return reqs
}

func BenchmarkEnrich(b *testing.B) {
	e := newTestEnricher(b, Options{
		CityDB: writeMMDB(b, "GeoLite2-City", testCity),
		ASNDB:  writeMMDB(b, "GeoLite2-ASN", testASN),
	})
	reqs := benchRequests(b)
	ctx := context.Background()
	var ev store.Event
	if err := e.Enrich(ctx, reqs[0], &ev); err != nil { // creates the day's salt
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := e.Enrich(ctx, reqs[i%len(reqs)], &ev); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEnrichParallel(b *testing.B) {
	e := newTestEnricher(b, Options{CityDB: writeMMDB(b, "GeoLite2-City", testCity)})
	reqs := benchRequests(b)
	var ev store.Event
	if err := e.Enrich(context.Background(), reqs[0], &ev); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var ev store.Event
		i := 0
		for pb.Next() {
			if err := e.Enrich(context.Background(), reqs[i%len(reqs)], &ev); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkUACacheHit(b *testing.B) {
	e := newTestEnricher(b, Options{})
	e.userAgent(testUA)
	b.ReportAllocs()
	for b.Loop() {
		e.userAgent(testUA)
	}
}

// BenchmarkUACacheMiss parses a new UA every time: bots.txt, crawlerdetect
// (most of the cost) and the UA parser.
func BenchmarkUACacheMiss(b *testing.B) {
	e := newTestEnricher(b, Options{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.userAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0." + strconv.Itoa(i) + ".0 Safari/537.36")
		i++
	}
}

// BenchmarkUAParts splits a miss into its parts.
func BenchmarkUAParts(b *testing.B) {
	p := newUAParser(nil)
	b.Run("bots.txt", func(b *testing.B) {
		for b.Loop() {
			botReason("mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like gecko) chrome/131.0.0.0 safari/537.36")
		}
	})
	b.Run("crawlerdetect", func(b *testing.B) {
		for b.Loop() {
			crawlerdetect.IsCrawler(testUA)
		}
	})
	b.Run("medama", func(b *testing.B) {
		for b.Loop() {
			p.ua.Parse(testUA)
		}
	})
}

// millionDistinct sends n events, each from a new address with a new user
// agent, and returns the heap in use before and after. crawlerdetect is
// replaced by a stub: it keeps no per-UA state, and at its few hundred
// microseconds per new UA a million would take minutes.
func millionDistinct(tb testing.TB, n int) (before, after uint64, e *Enricher) {
	e = newTestEnricher(tb, Options{UACacheSize: DefaultUACacheSize, SessionCacheSize: DefaultSessionCacheSize})
	e.parser.isCrawler = func(string) bool { return false }
	ctx := context.Background()
	page := mustURL(tb, "https://example.com/a?utm_source=x")
	var ev store.Event
	if err := e.Enrich(ctx, Request{Remote: "198.51.100.1:1", Header: uaHeader(testUA), Page: page}, &ev); err != nil {
		tb.Fatal(err)
	}
	before = heapInUse()
	h := http.Header{}
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		h.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0."+strconv.Itoa(i)+".0 Safari/537.36")
		if err := e.Enrich(ctx, Request{Remote: netip.AddrPortFrom(ip, 1).String(), Header: h, Page: page, SiteID: 1}, &ev); err != nil {
			tb.Fatal(err)
		}
	}
	after = heapInUse()
	runtime.KeepAlive(e)
	return before, after, e
}

// TestBoundedMemory: distinct visitors fill the caches to their caps and no
// further. The full million runs in BenchmarkMillionDistinct.
func TestBoundedMemory(t *testing.T) {
	n := 150_000
	if testing.Short() {
		n = 20_000
	}
	before, after, e := millionDistinct(t, n)
	st := e.Stats()
	t.Logf("%d distinct IPs and UAs: heap in use %s before, %s after; %d UA entries, %d sessions",
		n, mib(before), mib(after), st.UACacheEntries, st.SessionEntries)
	if st.UACacheEntries > DefaultUACacheSize || st.SessionEntries > DefaultSessionCacheSize {
		t.Errorf("caches over their caps: %d UAs (cap %d), %d sessions (cap %d)",
			st.UACacheEntries, DefaultUACacheSize, st.SessionEntries, DefaultSessionCacheSize)
	}
	if grown := int64(after) - int64(before); grown > 64<<20 {
		t.Errorf("heap grew by %s", mib(uint64(grown)))
	}
}

// BenchmarkMillionDistinct: run with -benchtime=1x. Reports the heap in use
// before and after a million events from distinct addresses and UAs.
func BenchmarkMillionDistinct(b *testing.B) {
	for b.Loop() {
		before, after, e := millionDistinct(b, 1_000_000)
		st := e.Stats()
		b.ReportMetric(float64(before)/(1<<20), "MiB-heap-before")
		b.ReportMetric(float64(after)/(1<<20), "MiB-heap-after")
		b.ReportMetric(float64(st.UACacheEntries), "ua-entries")
		b.ReportMetric(float64(st.SessionEntries), "session-entries")
	}
}
