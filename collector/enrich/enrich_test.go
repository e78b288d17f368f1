package enrich

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return u
}

func uaHeader(ua string) http.Header {
	h := http.Header{}
	h.Set("User-Agent", ua)
	return h
}

func TestUserAgents(t *testing.T) {
	e := newTestEnricher(t, Options{AllowUA: []string{"FootfallBrowserTest"}})
	rows := readCSV(t, "useragents.csv")
	if len(rows) < 40 {
		t.Fatalf("useragents.csv has %d rows, want at least 40", len(rows))
	}
	type class struct {
		Browser, BrowserVersion, OS, OSVersion, Device string
		Bot                                            bool
		BotReason                                      string
	}
	for _, row := range rows {
		t.Run(row["name"], func(t *testing.T) {
			want := class{row["browser"], row["browser_version"], row["os"], row["os_version"], row["device"], row["bot"] == "true", row["bot_reason"]}
			var ev store.Event
			req := Request{Remote: "198.51.100.1:5000", Header: uaHeader(row["user_agent"]), Page: mustURL(t, "https://example.com/")}
			if err := e.Enrich(t.Context(), req, &ev); err != nil {
				t.Fatal(err)
			}
			got := class{ev.Browser, ev.BrowserVersion, ev.OS, ev.OSVersion, ev.Device, ev.Bot, ev.BotReason}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: classification (-want +got):\n%s", row["note"], diff)
			}
			// A second look comes from the cache and says the same.
			var again store.Event
			if err := e.Enrich(t.Context(), req, &again); err != nil {
				t.Fatal(err)
			}
			if again.Browser != ev.Browser || again.BotReason != ev.BotReason {
				t.Errorf("cached classification differs: got %q/%q, want %q/%q", again.Browser, again.BotReason, ev.Browser, ev.BotReason)
			}
		})
	}
}

func TestCleanURL(t *testing.T) {
	for _, row := range readCSV(t, "urls.csv") {
		t.Run(row["name"], func(t *testing.T) {
			rules := SiteRules{HashRouting: row["hash_routing"] == "true", AllowedQuery: strings.Fields(row["allowed_query"])}
			host, path, query, utm, clickID := CleanURL(mustURL(t, row["url"]), rules)
			type cleaned struct {
				Host, Path, Query string
				UTM               UTM
				ClickID           string
			}
			got := cleaned{host, path, query, utm, clickID}
			want := cleaned{row["host"], row["path"], row["query"],
				UTM{row["utm_source"], row["utm_medium"], row["utm_campaign"], row["utm_term"], row["utm_content"]}, row["click_id"]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CleanURL(%q) (-want +got):\n%s", row["url"], diff)
			}
			if len(path) > MaxPathLen || len(query) > MaxQueryLen {
				t.Errorf("over the caps: path %d, query %d bytes", len(path), len(query))
			}
		})
	}
}

func TestCleanURLQueryCap(t *testing.T) {
	q := url.Values{}
	var allowed []string
	for i := range 50 {
		name := "p" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		q.Set(name, strings.Repeat("v", 40))
		allowed = append(allowed, name)
	}
	_, _, query, _, _ := CleanURL(&url.URL{Scheme: "https", Host: "example.com", RawQuery: q.Encode()}, SiteRules{AllowedQuery: allowed})
	if len(query) > MaxQueryLen || len(query) < MaxQueryLen-50 {
		t.Errorf("query is %d bytes, want close to and at most %d", len(query), MaxQueryLen)
	}
	if _, err := url.ParseQuery(query); err != nil {
		t.Errorf("capped query does not parse: %v", err)
	}
}

func TestClickIDCap(t *testing.T) {
	u := mustURL(t, "https://example.com/?gclid="+strings.Repeat("x", 1000))
	_, _, _, _, clickID := CleanURL(u, SiteRules{})
	if len(clickID) != MaxClickIDLen || !strings.HasPrefix(clickID, "gclid:") {
		t.Errorf("click id is %d bytes (%.20q…), want %d starting gclid:", len(clickID), clickID, MaxClickIDLen)
	}
}

func TestClassifyReferrer(t *testing.T) {
	for _, row := range readCSV(t, "referrers.csv") {
		t.Run(row["name"], func(t *testing.T) {
			utm := UTM{Source: row["utm_source"], Medium: row["utm_medium"]}
			host, class := classify(mustURL(t, row["referrer"]), row["page_host"], row["site_domain"], utm)
			if host != row["host"] || class != row["class"] {
				t.Errorf("classify(%q, page %q, site %q) = %q, %q; want %q, %q",
					row["referrer"], row["page_host"], row["site_domain"], host, class, row["host"], row["class"])
			}
			if row["site_domain"] == "" {
				h2, c2 := ClassifyReferrer(mustURL(t, row["referrer"]), row["page_host"], utm)
				if h2 != host || c2 != class {
					t.Errorf("ClassifyReferrer = %q, %q; classify = %q, %q", h2, c2, host, class)
				}
			}
		})
	}
}

func TestLookupSource(t *testing.T) {
	for host, want := range map[string]Source{
		"www.google.com":       {ClassSearch, "Google"},
		"news.ycombinator.com": {ClassSocial, "Hacker News"},
		"chatgpt.com":          {ClassAI, "ChatGPT"},
		"mail.google.com":      {ClassEmail, "Gmail"},
	} {
		got, ok := LookupSource(host)
		if !ok || got != want {
			t.Errorf("LookupSource(%q) = %v, %v; want %v", host, got, ok, want)
		}
	}
	if s, ok := LookupSource("unknown.example"); ok {
		t.Errorf("LookupSource(unknown) = %v, want none", s)
	}
}

func TestEmbeddedTables(t *testing.T) {
	if _, err := parseSources(sourcesFile); err != nil {
		t.Errorf("sources.txt: %v", err)
	}
	if _, err := parseParamRules(sensitiveParamsFile, clickIDsFile); err != nil {
		t.Errorf("parameter lists: %v", err)
	}
	if _, err := parseBotRules(botsFile); err != nil {
		t.Errorf("bots.txt: %v", err)
	}
	for _, bad := range []string{"google.com search", "google.com nosuchclass Google", "utm_source=x search X", "a.com search A\na.com social A"} {
		if _, err := parseSources(bad); err == nil {
			t.Errorf("parseSources(%q): no error", bad)
		}
	}
	if _, err := parseBotRules("robot curl/"); err == nil {
		t.Error("parseBotRules with an unknown reason: no error")
	}
	for _, name := range []string{"token", "Access_Token", "PASSWORD", "user-password", "e-mail", "EMAIL", "apiKey", "api-key", "JSESSIONID", "sid", "otp", "code", "mail", "x-amz-signature"} {
		if !IsSensitiveParam(name) {
			t.Errorf("IsSensitiveParam(%q) = false", name)
		}
	}
	for _, name := range []string{"q", "page", "lang", "sort", "id", "category", "keyword"} {
		if IsSensitiveParam(name) {
			t.Errorf("IsSensitiveParam(%q) = true", name)
		}
	}
}

// TestSpoofing goes through Enrich: what an untrusted client claims in
// forwarding headers never becomes the recorded address.
func TestSpoofing(t *testing.T) {
	e := newTestEnricher(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	spoof := http.Header{}
	spoof.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
	spoof.Set("X-Forwarded-For", "192.0.2.66")
	spoof.Set("X-Real-IP", "192.0.2.67")
	spoof.Set("Forwarded", "for=192.0.2.68")
	for _, tt := range []struct{ name, remote, want string }{
		{"untrusted peer", "198.51.100.7:50000", "198.51.100.7"},
		{"untrusted v6 peer", "[2001:db8::7]:50000", "2001:db8::7"},
		{"trusted proxy", "10.1.2.3:50000", "192.0.2.66"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev store.Event
			if err := e.Enrich(t.Context(), Request{Remote: tt.remote, Header: spoof, Page: mustURL(t, "https://example.com/")}, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.IP != tt.want {
				t.Errorf("IP = %q, want %q", ev.IP, tt.want)
			}
		})
	}
}

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":                   "203.0.113.0",
		"::ffff:203.0.113.77":            "203.0.113.0",
		"2001:db8:85a3:1234:5678::1":     "2001:db8:85a3::",
		"2001:0db8:0001:ffff:ffff::ffff": "2001:db8:1::",
	} {
		if got := truncateIP(netip.MustParseAddr(in).Unmap()); got != want {
			t.Errorf("truncateIP(%s) = %s, want %s", in, got, want)
		}
	}
	if got := truncateIP(netip.Addr{}); got != "" {
		t.Errorf("truncateIP(zero) = %q, want empty", got)
	}
}

func TestBotRangesAndAllowList(t *testing.T) {
	e := newTestEnricher(t, Options{
		BotRanges: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("::ffff:198.18.0.0/111")},
		AllowUA:   []string{" footfallbrowsertest "},
	})
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for _, tt := range []struct{ name, remote, ua, reason string }{
		{"browser outside ranges", "198.51.100.1:1", chrome, ""},
		{"browser in range", "192.0.2.10:1", chrome, BotIPRange},
		{"mapped prefix matches v4", "198.19.0.1:1", chrome, BotIPRange},
		{"ua reason wins over range", "192.0.2.10:1", "curl/8.0", BotHTTPClient},
		{"allow-listed headless", "198.51.100.1:1", "HeadlessChrome/131.0 FootfallBrowserTest", ""},
		{"allow-listed but in range", "192.0.2.10:1", "HeadlessChrome/131.0 FootfallBrowserTest", BotIPRange},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ev store.Event
			if err := e.Enrich(t.Context(), Request{Remote: tt.remote, Header: uaHeader(tt.ua), Page: mustURL(t, "https://example.com/")}, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.BotReason != tt.reason || ev.Bot != (tt.reason != "") {
				t.Errorf("Bot, BotReason = %v, %q; want %v, %q", ev.Bot, ev.BotReason, tt.reason != "", tt.reason)
			}
		})
	}
}

func TestGeo(t *testing.T) {
	city := writeMMDB(t, "GeoLite2-City", testCity)
	asn := writeMMDB(t, "GeoLite2-ASN", testASN)
	isp := writeMMDB(t, "GeoIP2-ISP", testISP)
	type geoFields struct {
		Country, Region, City string
		ASN                   uint32
		ISP                   string
	}
	tests := []struct {
		name string
		opts Options
		ip   string
		want geoFields
	}{
		{"city precision v4", Options{CityDB: city, ASNDB: asn}, "203.0.113.7", geoFields{"DE", "BE", "Berlin", 64500, "Example Transit AS"}},
		{"city precision v6", Options{CityDB: city, ASNDB: asn}, "2001:db8:85a3::7", geoFields{"FR", "IDF", "Paris", 64501, "Example Six AS"}},
		{"mapped v4", Options{CityDB: city}, "::ffff:203.0.113.7", geoFields{Country: "DE", Region: "BE", City: "Berlin"}},
		{"region precision", Options{CityDB: city, GeoPrecision: "region"}, "203.0.113.7", geoFields{Country: "DE", Region: "BE"}},
		{"country precision", Options{CityDB: city, GeoPrecision: "country"}, "203.0.113.7", geoFields{Country: "DE"}},
		{"isp db wins for the name", Options{ASNDB: asn, ISPDB: isp}, "203.0.113.7", geoFields{ASN: 64500, ISP: "Example Broadband"}},
		{"isp db without the address", Options{ASNDB: asn, ISPDB: isp}, "2001:db8:85a3::7", geoFields{ASN: 64501, ISP: "Example Six AS"}},
		{"address not in databases", Options{CityDB: city, ASNDB: asn}, "198.51.100.1", geoFields{}},
		{"no databases", Options{}, "203.0.113.7", geoFields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnricher(t, tt.opts)
			ev := store.Event{Country: "stale", ISP: "stale"}
			remote := netip.AddrPortFrom(netip.MustParseAddr(tt.ip), 1).String()
			if err := e.Enrich(t.Context(), Request{Remote: remote, Header: uaHeader("Mozilla/5.0"), Page: mustURL(t, "https://example.com/")}, &ev); err != nil {
				t.Fatal(err)
			}
			got := geoFields{ev.Country, ev.Region, ev.City, ev.ASN, ev.ISP}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("geo fields (-want +got):\n%s", diff)
			}
			if e.Stats().GeoFailures != 0 {
				t.Errorf("GeoFailures = %d, want 0", e.Stats().GeoFailures)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	asn := writeMMDB(t, "GeoLite2-ASN", testASN)
	missing := dir + "/missing-city.mmdb"
	_, err := New(Options{CityDB: missing, Salts: &memSalts{}})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing city db: error %v does not name %s", err, missing)
	}
	_, err = New(Options{CityDB: asn, Salts: &memSalts{}})
	if err == nil || !strings.Contains(err.Error(), asn) || !strings.Contains(err.Error(), "city") {
		t.Errorf("ASN file as the city db: error %v, want one naming the city database %s", err, asn)
	}
	_, err = New(Options{GeoPrecision: "street", UACacheSize: -1, TrustedProxies: []netip.Prefix{{}}})
	for _, want := range []string{"street", "-1", "trusted proxies", "salt store"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("invalid options: error %v does not mention %q", err, want)
		}
	}
}

func TestVisitorKeys(t *testing.T) {
	day := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	now := day
	e := newTestEnricher(t, Options{Now: func() time.Time { return now }})
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	consent := uuid.MustParse("5f0c6d1e-8f0a-4e3a-9c39-2b0c8d0f1a11")
	key := func(site uint32, remote, ua string, stable bool) (uint64, uint8) {
		t.Helper()
		var ev store.Event
		req := Request{Remote: remote, Header: uaHeader(ua), Page: mustURL(t, "https://example.com/"), SiteID: site, ConsentID: consent, StableVisitor: stable}
		if err := e.Enrich(t.Context(), req, &ev); err != nil {
			t.Fatal(err)
		}
		return ev.VisitorKey, ev.KeyVersion
	}
	k1, v1 := key(1, "198.51.100.7:1", chrome, false)
	if v1 != KeyDailySalt || k1 == 0 {
		t.Fatalf("key, version = %d, %d; want non-zero, %d", k1, v1, KeyDailySalt)
	}
	if k, _ := key(1, "198.51.100.7:2", chrome, false); k != k1 {
		t.Error("same visitor, other source port: key changed")
	}
	for name, k := range map[string]uint64{
		"other site": first(key(2, "198.51.100.7:1", chrome, false)),
		"other ip":   first(key(1, "198.51.100.8:1", chrome, false)),
		"other ua":   first(key(1, "198.51.100.7:1", chrome+" Edg/131.0", false)),
	} {
		if k == k1 {
			t.Errorf("%s: same key as the original visitor", name)
		}
	}
	s1, sv := key(1, "198.51.100.7:1", chrome, true)
	if sv != KeyConsent || s1 == k1 {
		t.Errorf("stable key, version = %d, %d; want a different key, version %d", s1, sv, KeyConsent)
	}
	now = day.AddDate(0, 0, 1)
	if k, _ := key(1, "198.51.100.7:1", chrome, false); k == k1 {
		t.Error("next day: salted key unchanged")
	}
	if s, _ := key(1, "198.51.100.8:1", "other", true); s != s1 {
		t.Error("next day, other IP and UA: consent key changed")
	}
}

func first[A, B any](a A, _ B) A { return a }

func TestSessions(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	e := newTestEnricher(t, Options{Now: func() time.Time { return now }})
	chrome := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	session := func(remote, sid, ua string, site uint32) uint64 {
		t.Helper()
		var ev store.Event
		req := Request{Remote: remote, Header: uaHeader(ua), Page: mustURL(t, "https://example.com/"), SID: sid, SiteID: site}
		if err := e.Enrich(t.Context(), req, &ev); err != nil {
			t.Fatal(err)
		}
		return ev.SessionID
	}
	a := session("198.51.100.7:1", "", chrome, 1)
	if a == 0 {
		t.Fatal("no session id")
	}
	now = now.Add(29 * time.Minute)
	if got := session("198.51.100.7:1", "", chrome, 1); got != a {
		t.Error("event 29 minutes later started a new session")
	}
	if got := session("198.51.100.8:1", "", chrome, 1); got == a {
		t.Error("another visitor shares the session")
	}
	now = now.Add(SessionIdle)
	b := session("198.51.100.7:1", "", chrome, 1)
	if b == a || b == 0 {
		t.Errorf("after %v idle: session %d, want a new one", SessionIdle, b)
	}

	// A tab session id makes the session, whatever the address.
	s1 := session("198.51.100.7:1", "tab-123", chrome, 1)
	if s1 == b || s1 != session("203.0.113.1:1", "tab-123", "other", 1) {
		t.Error("tab session id: want one session across addresses, separate from the inferred one")
	}
	if s1 == session("198.51.100.7:1", "tab-123", chrome, 2) {
		t.Error("tab session id: same session on another site")
	}
	// Bots get no inferred session and take no place in the map.
	before := e.Stats().SessionEntries
	if got := session("198.51.100.9:1", "", "curl/8.0", 1); got != 0 {
		t.Errorf("bot session = %d, want 0", got)
	}
	if e.Stats().SessionEntries != before {
		t.Error("a bot took a place in the session map")
	}
}

func TestEnrichClearsAndRequiresPage(t *testing.T) {
	e := newTestEnricher(t, Options{})
	if err := e.Enrich(t.Context(), Request{}, &store.Event{}); err == nil {
		t.Error("no page URL: no error")
	}
	ev := store.Event{IP: "stale", Bot: true, BotReason: "stale", ClickID: "stale", Query: "stale"}
	if err := e.Enrich(t.Context(), Request{Remote: "pipe", Header: uaHeader("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"), Page: mustURL(t, "https://example.com/")}, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.IP != "" || ev.IPTrunc != "" || ev.Bot || ev.BotReason != "" || ev.ClickID != "" || ev.Query != "" {
		t.Errorf("stale fields left: %+v", ev)
	}
	if ev.Source != ClassDirect {
		t.Errorf("Source = %q, want direct", ev.Source)
	}
}

func TestEnrichContextCancelled(t *testing.T) {
	e := newTestEnricher(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var ev store.Event
	err := e.Enrich(ctx, Request{Remote: "198.51.100.1:1", Header: uaHeader("x"), Page: mustURL(t, "https://example.com/a")}, &ev)
	if !errors.Is(err, ErrNoSalt) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context with no salt yet: error %v, want ErrNoSalt and context.Canceled", err)
	}
	if ev.Path != "/a" || ev.KeyVersion != 0 || ev.VisitorKey != 0 {
		t.Errorf("want every field but the visitor key filled: path %q, key %d v%d", ev.Path, ev.VisitorKey, ev.KeyVersion)
	}
}
