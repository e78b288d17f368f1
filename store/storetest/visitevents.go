package storetest

import (
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// RandomVisitEvents makes a day of events (from two hours before day)
// for a few visitors, each a walk of small gaps, gaps at the session
// timeout's edge (1800 and 1801 s) and long gaps, with several events in
// one second (of one type and of several, with other values), session ids
// and none, properties with and without values, bots and e-mail events:
// the edges of the aggregator's visit rules, for tests that hold two
// implementations of them to the same rows.
func RandomVisitEvents(r *rand.Rand, siteID uint32, day time.Time) []store.Event {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	gaps := []int{0, 0, 0, 1, 30, 600, 1799, 1800, 1801, 3600, 7200}
	types := []store.EventType{store.Pageview, store.Pageview, store.Pageview, store.Click, store.Custom, store.Engagement,
		store.EmailOpen}
	props := [][]store.Prop{nil, nil, {{Key: "plan", Value: "pro"}}, {{Key: "plan", Value: ""}},
		{{Key: "plan", Value: "team"}, {Key: "ab", Value: "x"}}}
	var out []store.Event
	for visitor := uint64(1); visitor <= 8; visitor++ {
		for _, session := range []uint64{0, 0, visitor * 100, visitor*100 + 1} {
			ts := day.Add(-2*time.Hour + time.Duration(r.IntN(26*3600))*time.Second)
			for range 20 + r.IntN(40) {
				ts = ts.Add(time.Duration(gaps[r.IntN(len(gaps))]) * time.Second)
				typ := types[r.IntN(len(types))]
				e := store.Event{
					ID: uuid.New(), SiteID: siteID, Type: typ, Time: ts, ReceivedAt: ts,
					Host: "example.test", Path: pick("/", "/a", "/b", "/pricing"),
					ReferrerHost: pick("", "google.com"), Source: pick("direct", "search"),
					UTMCampaign: pick("", "spring"), VisitorKey: visitor, SessionID: session,
					Country: pick("DE", "FR"), Region: pick("", "BY"), City: pick("", "Munich"),
					Device: pick("desktop", "mobile"), Browser: pick("Firefox", "Chrome"), OS: pick("Linux", "iOS"),
					Language: pick("de", "en"), Bot: r.IntN(20) == 0,
				}
				switch typ {
				case store.Click, store.Custom:
					e.Name, e.Target = pick("", "signup", "404"), pick("", "https://out.example/")
					e.Props = props[r.IntN(len(props))]
				case store.Engagement:
					e.EngagedMS = uint32(r.IntN(60_000))
				}
				out = append(out, e)
			}
		}
	}
	return out
}
