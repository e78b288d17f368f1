package storetest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// The rollup fixture: a generated data set with known answers, committed as
// JSON in testdata/rollups. GenerateRollupFixture builds it from a fixed
// seed: it plans visitors and their visits first and emits their events, then
// computes the expected rollups from that plan (a visit is a planned visit
// cut at window edges), not by sessionising the events the way the stores
// do. Newsletter opens and clicks (emailEvents) belong to no visit; their
// rows are counted from the events directly (expectEmailRollups).
// TestRollupFixtureIsCurrent keeps the files in step with this code;
// run it with -update after changing the generator.

// fixtureSeed makes the fixture reproducible.
const fixtureSeed = 20260314

// fixtureStart is the first day of the fixture; it spans two UTC days.
var fixtureStart = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

// fixtureZone is the time zone of the fixture's zoned daily windows.
const fixtureZone = "America/New_York"

// RollupFixture is the generated data set and its expected results. Site ids
// are 0; the suite fills in the site it adds.
type RollupFixture struct {
	Events  []store.Event   `json:"events"`
	Consent []ConsentRecord `json:"consent"`
	// Cases are rollup runs with their expected rows.
	Cases []RollupCase `json:"cases"`
	// Cells are partner cell queries with their expected cells.
	Cells []CellCase `json:"cells"`
}

// ConsentRecord is a consent ledger entry of the fixture.
type ConsentRecord struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Granted uint8     `json:"granted"`
	GPC     bool      `json:"gpc"`
}

// RollupCase is one ReplaceRollups call and what Rollups and ConsentRollups
// must then return.
type RollupCase struct {
	Name        string                   `json:"name"`
	Granularity store.Granularity        `json:"granularity"`
	TimeZone    string                   `json:"time_zone"`
	From        time.Time                `json:"from"`
	To          time.Time                `json:"to"`
	Rollups     []store.RollupRow        `json:"rollups"`
	Consent     []store.ConsentRollupRow `json:"consent"`
}

// CellCase is one PartnerCells call and its expected answer.
type CellCase struct {
	Name  string          `json:"name"`
	Query store.CellQuery `json:"query"`
	Cells []store.Cell    `json:"cells"`
}

// plannedVisit is a visit as the generator planned it.
type plannedVisit struct {
	visitor int
	id      int // unique per fixture
	events  []store.Event
}

type fixtureVisitor struct {
	key       uint64
	sessionID bool // its visits carry session ids
	gpc       bool
	country   string
	region    string
	city      string
	device    string
	browser   string
	os        string
}

// GenerateRollupFixture builds the fixture.
func GenerateRollupFixture() RollupFixture {
	r := rand.New(rand.NewPCG(fixtureSeed, fixtureSeed))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	geos := [][3]string{{"DE", "BE", "Berlin"}, {"DE", "BY", "Munich"}, {"FR", "IDF", "Paris"}, {"US", "NY", "New York"}, {"US", "CA", "San Francisco"}}
	landings := []struct{ ref, source, us, um, uc, ut, uct string }{
		{"", "direct", "", "", "", "", ""},
		{"www.google.com", "search", "", "", "", "", ""},
		{"news.example", "other", "", "", "", "", ""},
		{"t.co", "social", "twitter", "social", "spring", "privacy analytics", "thread"},
		{"mail.example", "email", "newsletter", "email", "march-news", "", "header"},
	}
	paths := []string{"/", "/pricing", "/blog/hello", "/blog/ch", "/docs", "/signup"}

	var visitors []fixtureVisitor
	var visits []plannedVisit
	nextVisit := 0
	for v := range 70 {
		geo := geos[r.IntN(len(geos))]
		fv := fixtureVisitor{
			// Keys above 2^63 check that no backend loses the top bit.
			key:       r.Uint64() | uint64(v%2)<<63,
			sessionID: v%3 == 0,
			gpc:       v%11 == 5,
			country:   geo[0], region: geo[1], city: geo[2],
			device:  pick("desktop", "mobile", "tablet"),
			browser: pick("Chrome", "Firefox", "Safari"),
			os:      pick("Windows", "macOS", "Android", "iOS"),
		}
		visitors = append(visitors, fv)
		// Visits are at least 31 minutes apart, so visits without a session
		// id split exactly where planned; events within a visit are at most
		// 25 minutes apart, so they never split.
		at := fixtureStart.Add(time.Duration(r.IntN(40*60)) * time.Minute)
		for range 1 + r.IntN(3) {
			if !at.Before(fixtureStart.Add(48 * time.Hour)) {
				break
			}
			landing := landings[r.IntN(len(landings))]
			pv := plannedVisit{visitor: v, id: nextVisit}
			nextVisit++
			sid := uint64(0)
			if fv.sessionID {
				sid = r.Uint64()>>1 + 1
			}
			page := pick(paths...)
			n := 1 + r.IntN(6)
			for i := range n {
				e := store.Event{
					ID:         uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-fixture-%d-%d", pv.id, i)),
					Type:       store.Pageview,
					Time:       at,
					ReceivedAt: at.Add(5 * time.Second),
					Host:       "shop.example", Path: page,
					VisitorKey: fv.key, KeyVersion: 1, SessionID: sid,
					Consent: store.ConsentAnalytics, PolicyVersion: "1", GPC: fv.gpc,
					Browser: fv.browser, BrowserVersion: "1", OS: fv.os, OSVersion: "1", Device: fv.device, ScreenWidth: 1280,
					Language: [...]string{"de", "en", "fr", "en", ""}[v%5],
					Country:  fv.country, Region: fv.region, City: fv.city,
					// Raw identifiers that must never reach an export.
					IP: fmt.Sprintf("203.0.113.%d", v), IPTrunc: "203.0.113.0",
					UserID: fmt.Sprintf("user-%d@mail.example", v), Query: "gclid=Cj0KCQjw" + fmt.Sprint(v),
				}
				if i == 0 {
					e.Referrer = ""
					if landing.ref != "" {
						e.Referrer = "https://" + landing.ref + "/"
					}
					e.ReferrerHost, e.Source = landing.ref, landing.source
					e.UTMSource, e.UTMMedium, e.UTMCampaign = landing.us, landing.um, landing.uc
					e.UTMTerm, e.UTMContent = landing.ut, landing.uct
				} else {
					switch k := r.IntN(10); {
					case k < 4:
						page = pick(paths...)
						e.Path = page
					case k < 6:
						e.Type = store.Engagement
						e.EngagedMS = uint32(1000 + r.IntN(60000))
					case k < 8:
						e.Type = store.Click
						e.Name = pick("cta", "download")
						e.Target = pick("https://partner.example/", "/files/guide.pdf")
					case k < 9:
						e.Type = store.Custom
						e.Name = "signup"
					default:
						// An e-mail event that, unlike the collector's,
						// carries a visitor key and no marketing consent:
						// it must join no visit and count nowhere. It has
						// the time of the event before it and takes no
						// time, so that the visit without it still has no
						// gap to split at.
						prev := pv.events[len(pv.events)-1]
						e.Type = store.EmailOpen
						e.Path = "/email/open"
						e.Time, e.ReceivedAt = prev.Time, prev.ReceivedAt
					}
				}
				pv.events = append(pv.events, e)
				if gap := time.Duration(10+r.IntN(25*60-10)) * time.Second; e.Type != store.EmailOpen {
					at = at.Add(gap)
				}
			}
			visits = append(visits, pv)
			at = at.Add(time.Duration(31+r.IntN(150)) * time.Minute)
		}
	}

	// The fixture covers two UTC days: events planned after them are dropped.
	end := fixtureStart.Add(48 * time.Hour)
	for i := range visits {
		visits[i].events = slices.DeleteFunc(visits[i].events, func(e store.Event) bool { return !e.Time.Before(end) })
	}
	visits = slices.DeleteFunc(visits, func(v plannedVisit) bool { return len(v.events) == 0 })

	var f RollupFixture
	for _, v := range visits {
		f.Events = append(f.Events, v.events...)
	}
	// Bots are never visits: one crawler hammering the site.
	for i := range 12 {
		at := fixtureStart.Add(time.Duration(3+i*4) * time.Hour)
		f.Events = append(f.Events, store.Event{
			ID:   uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-fixture-bot-%d", i)),
			Type: store.Pageview, Time: at, ReceivedAt: at, Host: "shop.example", Path: "/",
			VisitorKey: 42, Browser: "Googlebot", Bot: true, BotReason: "ua",
		})
	}
	slices.SortFunc(f.Events, func(a, b store.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID.String(), b.ID.String()))
	})

	actions := []struct {
		action  string
		granted uint8
	}{{"accept_all", 7}, {"reject_all", 0}, {"custom", 1}, {"custom", 3}, {"withdraw", 0}, {"gpc_auto", 3}, {"expire", 0}}
	for i := range 60 {
		a := actions[r.IntN(len(actions))]
		f.Consent = append(f.Consent, ConsentRecord{
			Time:   fixtureStart.Add(time.Duration(r.IntN(48*3600)) * time.Second),
			Action: a.action, Granted: a.granted, GPC: a.action == "gpc_auto" || i%9 == 0,
		})
	}
	slices.SortFunc(f.Consent, func(a, b ConsentRecord) int { return a.Time.Compare(b.Time) })

	f.Events = append(f.Events, emailEvents(r)...)
	slices.SortFunc(f.Events, func(a, b store.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID.String(), b.ID.String()))
	})

	ny, err := time.LoadLocation(fixtureZone)
	if err != nil {
		panic(err)
	}
	for _, c := range []struct {
		name string
		g    store.Granularity
		loc  *time.Location
	}{
		{"hourly", store.Hourly, time.UTC},
		{"daily", store.Daily, time.UTC},
		{"daily-" + fixtureZone, store.Daily, ny},
	} {
		from := store.WindowStart(c.g, c.loc, fixtureStart)
		to := store.NextWindow(c.g, c.loc, store.WindowStart(c.g, c.loc, end.Add(-time.Second)))
		zone := ""
		if c.loc != time.UTC {
			zone = c.loc.String()
		}
		f.Cases = append(f.Cases, RollupCase{
			Name: c.name, Granularity: c.g, TimeZone: zone, From: from, To: to,
			Rollups: append(expectRollups(visits, c.g, c.loc), expectEmailRollups(f.Events, c.g, c.loc)...),
			Consent: expectConsent(f.Consent, c.g, c.loc),
		})
		sortRollups(f.Cases[len(f.Cases)-1].Rollups)
	}

	dims := []string{store.DimTotal, store.DimPage, store.DimEntryPage, store.DimReferrerHost, store.DimCountry, store.DimCity, store.DimEventName}
	base := store.CellQuery{TimeZone: "", From: fixtureStart, To: end, Dimensions: dims}
	plain := base
	f.Cells = append(f.Cells, CellCase{Name: "unbounded", Query: plain, Cells: expectCells(visits, visitors, plain, time.UTC)})
	bounded := base
	bounded.MaxCellsPerVisitor, bounded.MaxVisits, bounded.MaxPageviews, bounded.MaxEvents = 2, 1, 2, 1
	f.Cells = append(f.Cells, CellCase{Name: "bounded", Query: bounded, Cells: expectCells(visits, visitors, bounded, time.UTC)})
	folded := bounded
	folded.Fold = true
	for _, c := range expectCells(visits, visitors, plain, time.UTC) {
		if c.TrueVisitors >= 4 {
			folded.Keep = append(folded.Keep, store.CellKey(c.Day, c.Dimension, c.Value))
		}
	}
	f.Cells = append(f.Cells, CellCase{Name: "folded", Query: folded, Cells: expectCells(visits, visitors, folded, time.UTC)})
	zoned := base
	zoned.TimeZone = fixtureZone
	zoned.From = store.WindowStart(store.Daily, ny, fixtureStart)
	zoned.To = store.NextWindow(store.Daily, ny, store.WindowStart(store.Daily, ny, end))
	f.Cells = append(f.Cells, CellCase{Name: "zoned", Query: zoned, Cells: expectCells(visits, visitors, zoned, ny)})
	return f
}

// emailLinks are the fixture's newsletter links. The campaigns hold the
// characters the e-mail value escapes ("/" and "%"), two of them written
// so that a store that failed to escape would merge them; one link id is
// empty and one holds a slash.
var emailLinks = []struct{ campaign, link, target string }{
	{"march-news", "hero", "https://shop.example/sale"},
	{"march-news", "footer", "https://shop.example/"},
	{"march-news", "", ""},
	{"spring/sale", "hero", "https://shop.example/spring"},
	{"spring%2Fsale", "hero", "https://shop.example/spring"},
	{"50%-off", "nav/pricing", "https://shop.example/pricing"},
}

// emailEvents are newsletter opens and clicks as the collector records
// them: no visitor key, session, IP or user agent; campaign and link in
// the UTM fields; the source and target only with analytics consent. Link
// i has 2i+2 opens and 2i+1 clicks (none without a target), so no two
// (dimension, value) cells of a day hold the same count, and a store that
// swapped opens and clicks, or mixed links up, gets other numbers. All of a
// link's events fall in 06:00–20:00 UTC of one day, inside one daily
// window in UTC and in fixtureZone. A few events without marketing consent
// (which the collector never stores) must count nowhere.
func emailEvents(r *rand.Rand) []store.Event {
	var out []store.Event
	add := func(i, n int, typ store.EventType, cats store.Categories) {
		l := emailLinks[i]
		day := fixtureStart.Add(time.Duration(i%2) * 24 * time.Hour)
		for j := range n {
			at := day.Add(6*time.Hour + time.Duration(r.IntN(14*3600))*time.Second)
			e := store.Event{
				ID:   uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "footfall-fixture-email-%d-%s-%d-%d", i, typ, cats, j)),
				Type: typ, Time: at, ReceivedAt: at, Consent: cats,
				UTMMedium: "email", UTMCampaign: l.campaign, UTMContent: l.link,
			}
			if cats&store.ConsentAnalytics != 0 && l.target != "" {
				e.Source, e.Target = "email", l.target
			}
			out = append(out, e)
		}
	}
	for i, l := range emailLinks {
		// Odd links have the subscriber's analytics consent too.
		cats := store.ConsentMarketing
		if i%2 == 1 {
			cats |= store.ConsentAnalytics
		}
		add(i, 2*i+2, store.EmailOpen, cats)
		if l.target != "" {
			add(i, 2*i+1, store.EmailClick, cats)
		}
	}
	add(0, 2, store.EmailClick, store.ConsentAnalytics)
	add(1, 1, store.EmailOpen, 0)
	return out
}

// expectEmailRollups are the e-mail dimensions' rows: per window, the opens
// and clicks with marketing consent of each campaign and link.
func expectEmailRollups(events []store.Event, g store.Granularity, loc *time.Location) []store.RollupRow {
	cells := map[cellKey]*store.RollupRow{}
	for _, e := range events {
		if !isEmail(e.Type) || e.Bot || e.Consent&store.ConsentMarketing == 0 {
			continue
		}
		k := cellKey{store.WindowStart(g, loc, e.Time), string(e.Type), store.EmailValue(e.UTMCampaign, e.UTMContent)}
		row := cells[k]
		if row == nil {
			row = &store.RollupRow{Granularity: g, WindowStart: k.win, Dimension: k.dim, Value: k.value}
			cells[k] = row
		}
		row.Events++
	}
	var out []store.RollupRow
	for _, row := range cells {
		out = append(out, *row)
	}
	sortRollups(out)
	return out
}

// typeRank orders events of the same second: the stores' tie-break.
func typeRank(t store.EventType) int {
	return slices.Index([]store.EventType{store.Pageview, store.Click, store.Custom, store.Engagement, store.EmailOpen, store.EmailClick}, t) + 1
}

// isInteraction reports whether an event of a visit counts as an event
// (and so makes the visit no bounce). E-mail events are in no visit.
func isInteraction(t store.EventType) bool {
	return t == store.Click || t == store.Custom
}

// isEmail reports whether t is a newsletter open or click: counted only in
// the e-mail dimensions, never part of a visit.
func isEmail(t store.EventType) bool {
	return t == store.EmailOpen || t == store.EmailClick
}

// visitPart is a planned visit's events within one window.
type visitPart struct {
	win    time.Time
	key    uint64
	visit  int
	events []store.Event
}

// splitVisits cuts planned visits at window edges. Bots, e-mail events and
// events skip reports are left out.
func splitVisits(visits []plannedVisit, g store.Granularity, loc *time.Location, skip func(e store.Event) bool) []visitPart {
	var out []visitPart
	for _, v := range visits {
		byWin := map[time.Time]*visitPart{}
		var order []time.Time
		for _, e := range v.events {
			if e.Bot || isEmail(e.Type) || skip != nil && skip(e) {
				continue
			}
			w := store.WindowStart(g, loc, e.Time)
			p := byWin[w]
			if p == nil {
				p = &visitPart{win: w, key: e.VisitorKey, visit: v.id}
				byWin[w] = p
				order = append(order, w)
			}
			p.events = append(p.events, e)
		}
		for _, w := range order {
			p := byWin[w]
			slices.SortFunc(p.events, func(a, b store.Event) int {
				return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(typeRank(a.Type), typeRank(b.Type)))
			})
			out = append(out, *p)
		}
	}
	return out
}

// sessionValue is the value of a session dimension for a visit part: its
// first event's, or its last's.
func sessionValue(dim string, p visitPart) string {
	d, ok := store.DimensionByName(dim)
	if !ok || !d.Session {
		panic("no session dimension " + dim)
	}
	e := p.events[0]
	if d.Last {
		e = p.events[len(p.events)-1]
	}
	return d.Value(&e)
}

// eventValue is an event's value of an event dimension, if it has one.
func eventValue(dim string, e store.Event) (string, bool) {
	d, ok := store.DimensionByName(dim)
	switch {
	case !ok || d.Session:
		panic("no event dimension " + dim)
	case store.EmailDimension(dim):
		// E-mail events are in no visit; expectEmailRollups counts them.
		return "", false
	}
	v := d.Value(&e)
	return v, dim == store.DimPage || v != ""
}

type cellKey struct {
	win        time.Time
	dim, value string
}

type partStats struct {
	pv, ev, eng, dur, bounce uint64
}

func statsOf(events []store.Event) partStats {
	var s partStats
	for _, e := range events {
		if e.Type == store.Pageview {
			s.pv++
		}
		if isInteraction(e.Type) {
			s.ev++
		}
		s.eng += uint64(e.EngagedMS)
	}
	s.dur = uint64(events[len(events)-1].Time.Sub(events[0].Time) / time.Second)
	if s.pv == 1 && s.ev == 0 {
		s.bounce = 1
	}
	return s
}

// visitorCell is one visitor key's contribution to one cell.
type visitorCell struct {
	visits map[int]bool
	pv, ev uint64
}

// contributions walks every (cell, visitor key) contribution of parts for
// dims: session dimensions once per visit part, event dimensions per event.
func contributions(parts []visitPart, dims []string, add func(k cellKey, p visitPart, s partStats, session bool)) {
	for _, p := range parts {
		for _, dim := range dims {
			if store.SessionDimension(dim) {
				add(cellKey{p.win, dim, sessionValue(dim, p)}, p, statsOf(p.events), true)
				continue
			}
			for _, e := range p.events {
				if v, ok := eventValue(dim, e); ok {
					add(cellKey{p.win, dim, v}, p, statsOf([]store.Event{e}), false)
				}
			}
		}
	}
}

func expectRollups(visits []plannedVisit, g store.Granularity, loc *time.Location) []store.RollupRow {
	parts := splitVisits(visits, g, loc, nil)
	return sumCells(parts, store.RollupDimensions, func(k cellKey) store.RollupRow {
		return store.RollupRow{Granularity: g, WindowStart: k.win, Dimension: k.dim, Value: k.value}
	})
}

// sumCells adds up the contributions of parts to the cells of dims, sorted;
// base returns a new cell's row with its key fields set.
func sumCells(parts []visitPart, dims []string, base func(k cellKey) store.RollupRow) []store.RollupRow {
	type acc struct {
		row      store.RollupRow
		visitors map[uint64]bool
		visits   map[int]bool
	}
	cells := map[cellKey]*acc{}
	contributions(parts, dims, func(k cellKey, p visitPart, s partStats, session bool) {
		a := cells[k]
		if a == nil {
			a = &acc{row: base(k), visitors: map[uint64]bool{}, visits: map[int]bool{}}
			cells[k] = a
		}
		a.visitors[p.key] = true
		a.visits[p.visit] = true
		a.row.Pageviews += s.pv
		a.row.Events += s.ev
		a.row.EngagedMS += s.eng
		if session {
			a.row.Bounces += s.bounce
			a.row.DurationSec += s.dur
		}
	})
	var out []store.RollupRow
	for _, a := range cells {
		a.row.Visitors, a.row.Visits = uint64(len(a.visitors)), uint64(len(a.visits))
		out = append(out, a.row)
	}
	sortRollups(out)
	return out
}

func sortRollups(rows []store.RollupRow) {
	slices.SortFunc(rows, func(a, b store.RollupRow) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
	})
}

func expectConsent(records []ConsentRecord, g store.Granularity, loc *time.Location) []store.ConsentRollupRow {
	type key struct {
		win time.Time
		cat string
	}
	rows := map[key]*store.ConsentRollupRow{}
	for _, r := range records {
		w := store.WindowStart(g, loc, r.Time)
		decision := r.Action != "withdraw" && r.Action != "expire"
		for _, c := range store.ConsentCategories {
			k := key{w, c.Name}
			row := rows[k]
			if row == nil {
				row = &store.ConsentRollupRow{Granularity: g, WindowStart: w, Category: c.Name}
				rows[k] = row
			}
			if decision {
				row.Decisions++
				if store.Categories(r.Granted)&c.Bit != 0 {
					row.Granted++
				} else {
					row.Denied++
				}
				if r.GPC {
					row.GPC++
				}
			}
			if r.Action == "withdraw" {
				row.Withdrawn++
			}
		}
	}
	var out []store.ConsentRollupRow
	for _, r := range rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b store.ConsentRollupRow) int {
		return cmp.Or(a.WindowStart.Compare(b.WindowStart), cmp.Compare(a.Category, b.Category))
	})
	return out
}

// expectCells answers a CellQuery from the plan.
func expectCells(visits []plannedVisit, visitors []fixtureVisitor, q store.CellQuery, loc *time.Location) []store.Cell {
	gpcKeys := map[uint64]bool{}
	for _, v := range visitors {
		if v.gpc {
			gpcKeys[v.key] = true
		}
	}
	inRange := func(e store.Event) bool { return !e.Time.Before(q.From) && e.Time.Before(q.To) }
	parts := splitVisits(visits, store.Daily, loc, func(e store.Event) bool { return !inRange(e) || gpcKeys[e.VisitorKey] })
	keep := map[string]bool{}
	for _, k := range q.Keep {
		keep[k] = true
	}
	type vk struct {
		cell cellKey
		key  uint64
	}
	contrib := map[vk]*visitorCell{}
	contributions(parts, q.Dimensions, func(k cellKey, p visitPart, s partStats, _ bool) {
		if q.Fold && !keep[store.CellKey(k.win, k.dim, k.value)] {
			k.value = store.OtherValue
		}
		c := contrib[vk{k, p.key}]
		if c == nil {
			c = &visitorCell{visits: map[int]bool{}}
			contrib[vk{k, p.key}] = c
		}
		c.visits[p.visit] = true
		c.pv += s.pv
		c.ev += s.ev
	})
	limit := func(n uint64, max int) uint64 {
		if max > 0 && n > uint64(max) {
			return uint64(max)
		}
		return n
	}
	// Per visitor key and dimension, the cells it may count in.
	type bounded struct {
		cell      cellKey
		v, pv, ev uint64
	}
	perVisitor := map[string][]bounded{}
	for k, c := range contrib {
		id := fmt.Sprintf("%d|%s", k.key, k.cell.dim)
		perVisitor[id] = append(perVisitor[id], bounded{cell: k.cell,
			v: limit(uint64(len(c.visits)), q.MaxVisits), pv: limit(c.pv, q.MaxPageviews), ev: limit(c.ev, q.MaxEvents)})
	}
	cells := map[cellKey]*store.Cell{}
	for _, list := range perVisitor {
		slices.SortFunc(list, func(a, b bounded) int {
			return cmp.Or(cmp.Compare(b.pv, a.pv), a.cell.win.Compare(b.cell.win), cmp.Compare(a.cell.value, b.cell.value))
		})
		for i, b := range list {
			c := cells[b.cell]
			if c == nil {
				c = &store.Cell{Day: b.cell.win, Dimension: b.cell.dim, Value: b.cell.value}
				cells[b.cell] = c
			}
			c.TrueVisitors++
			if q.MaxCellsPerVisitor > 0 && i >= q.MaxCellsPerVisitor {
				continue
			}
			c.Visitors++
			c.Visits += b.v
			c.Pageviews += b.pv
			c.Events += b.ev
		}
	}
	var out []store.Cell
	for _, c := range cells {
		out = append(out, *c)
	}
	SortCells(out)
	return out
}

// SortCells orders cells by day, dimension and value, as the stores return them.
func SortCells(cells []store.Cell) {
	slices.SortFunc(cells, func(a, b store.Cell) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value))
	})
}

// MarshalFixture encodes the fixture as the committed file holds it.
func MarshalFixture(f RollupFixture) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
