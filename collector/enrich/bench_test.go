package enrich

import (
	"context"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"testing"
	"time"

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
	e.userAgent(testUA, netip.Addr{}, time.Time{})
	b.ReportAllocs()
	for b.Loop() {
		e.userAgent(testUA, netip.Addr{}, time.Time{})
	}
}

// BenchmarkUACacheMiss parses a new UA every time: bots.txt, crawlerdetect
// (most of the cost) and the UA parser.
func BenchmarkUACacheMiss(b *testing.B) {
	e := newTestEnricher(b, Options{UAParsesPerMinute: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.userAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0."+strconv.Itoa(i)+".0 Safari/537.36", netip.Addr{}, time.Time{})
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

// corpusUAs are the real browsers' user agents of the corpora (in-app
// browsers included): the traffic that runs the snippet and sends beacons.
// Apps without a web view and feature phones, the "app" rows, send none.
func corpusUAs(b *testing.B) []string {
	b.Helper()
	var uas []string
	for _, file := range []string{"ua_families.csv", "ua_humans.csv"} {
		for _, row := range readCSV(b, file) {
			if row["kind"] != "app" {
				uas = append(uas, row["user_agent"])
			}
		}
	}
	return uas
}

// BenchmarkUACacheMissCorpus parses every real user agent of the corpora
// as a new one (a cache of one entry): the uncached cost per new UA of real
// traffic, fast path and crawlerdetect together.
func BenchmarkUACacheMissCorpus(b *testing.B) {
	uas := corpusUAs(b)
	e := newTestEnricher(b, Options{UACacheSize: 1, UAParsesPerMinute: -1})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.userAgent(uas[i%len(uas)], netip.Addr{}, time.Time{})
		i++
	}
}

// BenchmarkUniqueVsRepeatedUA enriches the same beacons of one client in
// one run three times: all with one user agent (cache hits); each with a
// new real user agent, as the collector runs (the client's parses bounded
// by the default budget, Options.UAParsesPerMinute: the client
// that sends a new user agent with every request); and the same with no
// bound (every one parsed, which is also what many clients each with a new
// user agent cost). It reports the throughput of the second over the first
// ("unique/repeated"; the target is at least 0.8) and of the third
// ("unbounded/repeated").
func BenchmarkUniqueVsRepeatedUA(b *testing.B) {
	uas := corpusUAs(b)
	reqs := benchRequests(b)
	for i := range reqs {
		reqs[i].Remote = reqs[0].Remote
	}
	ctx := context.Background()
	city := writeMMDB(b, "GeoLite2-City", testCity)
	repeated := newTestEnricher(b, Options{CityDB: city})
	unique := newTestEnricher(b, Options{CityDB: city, UACacheSize: 1, UAParsesPerMinute: DefaultUAParsesPerMinute})
	unbounded := newTestEnricher(b, Options{CityDB: city, UACacheSize: 1, UAParsesPerMinute: -1})
	var ev store.Event
	for _, e := range []*Enricher{repeated, unique, unbounded} {
		if err := e.Enrich(ctx, reqs[0], &ev); err != nil { // creates the day's salt
			b.Fatal(err)
		}
	}
	run := func(e *Enricher, ua func(i int) string) time.Duration {
		h := http.Header{}
		start := time.Now()
		for i := range len(uas) {
			req := reqs[i%len(reqs)]
			h.Set("User-Agent", ua(i))
			req.Header = h
			if err := e.Enrich(ctx, req, &ev); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	var same, fresh, all time.Duration
	for b.Loop() {
		same += run(repeated, func(int) string { return testUA })
		fresh += run(unique, func(i int) string { return uas[i] })
		all += run(unbounded, func(i int) string { return uas[i] })
	}
	n := float64(b.N * len(uas))
	b.ReportMetric(float64(same)/float64(fresh), "unique/repeated")
	b.ReportMetric(float64(same)/float64(all), "unbounded/repeated")
	b.ReportMetric(float64(same.Microseconds())/n, "µs/repeated")
	b.ReportMetric(float64(fresh.Microseconds())/n, "µs/unique")
}
