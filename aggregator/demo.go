package aggregator

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// DemoDomain is the site footfall serve -demo fills.
const DemoDomain = "demo.footfall.test"

// DemoData generates realistic traffic for a demo site: the events of the
// days up to end (steady: about 83 visitors a day, a weekly rhythm, more
// by day than by night, a few campaigns, bots left for the aggregator to
// drop) and one consent decision per visitor. One visitor in five refuses
// analytics: a reject_all decision and no events. Every event carries the
// consent fields of a visitor who granted analytics, as the collector
// would store them. The same seed gives the same data.
func DemoData(siteID uint32, end time.Time, days int, seed uint64) ([]store.Event, []store.ConsentRecord) {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	geos := [][2]string{{"DE", "BE"}, {"DE", "BY"}, {"FR", "IDF"}, {"US", "NY"}, {"US", "CA"}, {"GB", "ENG"}, {"NL", "NH"}, {"BR", "SP"}}
	landings := []struct{ ref, source, us, um, uc string }{
		{"", "direct", "", "", ""}, {"", "direct", "", "", ""},
		{"www.google.com", "search", "", "", ""}, {"www.google.com", "search", "", "", ""},
		{"duckduckgo.com", "search", "", "", ""},
		{"news.ycombinator.com", "social", "", "", ""},
		{"t.co", "social", "twitter", "social", "launch"},
		{"mail.example", "email", "newsletter", "email", "monthly"},
		{"chatgpt.com", "ai", "", "", ""},
	}
	paths := []string{"/", "/", "/pricing", "/features", "/blog/consent-first-analytics", "/blog/clickhouse-at-scale", "/docs", "/docs/install", "/signup", "/about"}
	end = end.UTC().Truncate(time.Second)
	start := end.AddDate(0, 0, -days)
	var events []store.Event
	var records []store.ConsentRecord
	n := 0
	for v := range 2500 * days / 30 {
		geo := geos[r.IntN(len(geos))]
		key := r.Uint64()
		device := pick("desktop", "desktop", "mobile", "mobile", "tablet")
		browser, os := pick("Chrome", "Chrome", "Firefox", "Safari", "Edge"), pick("Windows", "macOS", "Android", "iOS", "Linux")
		bot := v%40 == 0
		cid := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-demo-consent-%d-%d", seed, v))
		granted := store.ConsentAnalytics
		if v%3 == 0 {
			granted = store.ConsentAll
		}
		gpc := v%17 == 0
		if !bot && v%5 == 4 {
			at := start.Add(time.Duration(r.Int64N(int64(end.Sub(start))))).Truncate(time.Second)
			records = append(records, store.ConsentRecord{SiteID: siteID, ConsentID: cid, Time: at,
				Action: store.ConsentRejectAll, PolicyVersion: 1, GPC: gpc, Language: "en"})
			continue
		}
		var first time.Time
		for visit := range 1 + r.IntN(4) {
			// Days weighted towards weekdays, hours towards the afternoon.
			var at time.Time
			for {
				at = start.Add(time.Duration(r.Int64N(int64(end.Sub(start)))))
				wd, h := at.Weekday(), at.Hour()
				weight := 1.0
				if wd == time.Saturday || wd == time.Sunday {
					weight *= 0.6
				}
				if h < 6 {
					weight *= 0.2
				} else if h >= 12 && h < 18 {
					weight *= 1.4
				}
				if r.Float64() < weight/1.4 {
					break
				}
			}
			at = at.Truncate(time.Second)
			if visit == 0 || at.Before(first) {
				first = at
			}
			landing := landings[r.IntN(len(landings))]
			page := pick(paths...)
			sid := r.Uint64()>>1 + 1
			for i := range 1 + r.IntN(5) {
				if at.After(end) {
					break
				}
				e := store.Event{
					ID:     uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-demo-%d-%d", seed, n)),
					SiteID: siteID, Type: store.Pageview, Time: at, ReceivedAt: at.Add(2 * time.Second),
					Host: DemoDomain, Path: page, VisitorKey: key, KeyVersion: 1, SessionID: sid,
					ConsentID: cid, Consent: store.Categories(granted), PolicyVersion: "1", GPC: gpc,
					Browser: browser, BrowserVersion: "1", OS: os, OSVersion: "1", Device: device, ScreenWidth: 1280,
					Country: geo[0], Region: geo[1], EngagedMS: uint32(r.IntN(90_000)),
					Bot: bot,
				}
				if bot {
					e.BotReason = "user agent"
				}
				if i == 0 {
					e.ReferrerHost, e.Source = landing.ref, landing.source
					if landing.ref != "" {
						e.Referrer = "https://" + landing.ref + "/"
					}
					e.UTMSource, e.UTMMedium, e.UTMCampaign = landing.us, landing.um, landing.uc
				}
				events = append(events, e)
				n++
				if r.IntN(5) == 0 { // a click on a key element
					c := e
					c.ID = uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-demo-%d-%d", seed, n))
					c.Type, c.Name, c.Target = store.Click, "cta", "/signup"
					c.Time = at.Add(time.Duration(5+r.IntN(60)) * time.Second)
					c.ReceivedAt = c.Time.Add(2 * time.Second)
					c.Referrer, c.ReferrerHost, c.Source, c.UTMSource, c.UTMMedium, c.UTMCampaign = "", "", "", "", "", ""
					if !c.Time.After(end) {
						events = append(events, c)
						n++
					}
				}
				at = at.Add(time.Duration(20+r.IntN(300)) * time.Second)
				page = pick(paths...)
			}
		}
		if !bot && !first.IsZero() {
			action := store.ConsentAcceptAll
			if granted != store.ConsentAll {
				action = store.ConsentCustom
			}
			records = append(records, store.ConsentRecord{SiteID: siteID, ConsentID: cid, Time: first.Add(-time.Second),
				Action: action, Granted: granted, PolicyVersion: 1, GPC: gpc, Language: "en"})
		}
	}
	return events, records
}
