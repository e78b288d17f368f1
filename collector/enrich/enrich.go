// Package enrich turns a consented beacon request into the fields of a raw
// event: the cleaned page URL and its campaign tagging, the referrer and its
// source class, the client address (raw and truncated), browser, OS and
// device, bot classification, geography and network, a visitor key under a
// daily salt and a session id.
//
// It fills every field it knows and decides nothing about consent: the
// collector clears what the visitor's consent does not cover before storage.
// It never logs an IP address, a user agent, a token or a consent id.
//
// Data files, embedded and maintained by hand: sources.txt (referrer hosts
// and their classes), sensitive_params.txt (query parameters always
// stripped), click_ids.txt (click-id parameters in priority order) and
// bots.txt (headless, AI-crawler and HTTP-client signs).
//
// Sessions. A beacon's "sid" (the snippet's tab session id) makes the
// session id. Without one, a visitor's events belong to one session until
// SessionIdle passes without an event; that rule runs on an in-memory map of
// this replica only. With several replicas a visitor's requests may reach
// different ones, so the aggregator re-derives such sessions from the raw
// events (visitor key and time); the stored SessionID is a hint.
package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"

	"github.com/footfall/footfall/httpapi"
)

// Visitor-key algorithms, as stored in Event.KeyVersion.
const (
	// KeyDailySalt is HMAC-SHA256(daily salt, site id ‖ IP ‖ user agent)
	// truncated to 64 bits: a visitor is recognisable within one UTC day.
	KeyDailySalt uint8 = 1
	// KeyConsent is SHA-256 of the site id and consent id truncated to 64
	// bits: stable across days, used when personalization is granted.
	KeyConsent uint8 = 2
)

// SessionIdle is how long a visitor without a tab session id may be idle
// before their next event starts a new session.
const SessionIdle = 30 * time.Minute

// Defaults of the Options sizes.
const (
	DefaultUACacheSize      = 10_000
	DefaultSessionCacheSize = 100_000
	// A client (IPv4 address or IPv6 /64) may have this many user agents
	// parsed a minute, in bursts of DefaultUAParseBurst; the budgets of the
	// UACacheSize clients that last sent an unknown user agent are kept.
	DefaultUAParsesPerMinute = 600
	DefaultUAParseBurst      = 100
)

// Options configure an Enricher.
type Options struct {
	// TrustedProxies are the reverse proxies whose forwarding headers
	// (X-Forwarded-For, Forwarded, X-Real-IP) are believed. Empty: the
	// connection's peer is always the client.
	TrustedProxies []netip.Prefix
	// BotRanges are client networks whose events are bots ("ip_range"):
	// monitoring, load testing, known data-centre scrapers.
	BotRanges []netip.Prefix
	// AllowUA are user-agent substrings (case-insensitive) exempt from the
	// user-agent bot checks, such as a marker the browser tests put in
	// headless Chromium's user agent. BotRanges still apply to them.
	AllowUA []string
	// CityDB, ASNDB and ISPDB are paths of MaxMind-format databases
	// (GeoLite2/GeoIP2 City, ASN and ISP, or compatible). Each is optional;
	// without one its fields stay empty. The ISP database's ISP name wins
	// over the ASN database's organisation.
	CityDB, ASNDB, ISPDB string
	// GeoPrecision is how much of the City database is recorded: country,
	// region (country and first subdivision) or city (default).
	GeoPrecision string
	// UACacheSize is how many distinct user agents keep their parsed
	// result (default DefaultUACacheSize); memory stays bounded by it.
	UACacheSize int
	// SessionCacheSize is how many visitors the inactivity session rule
	// remembers (default DefaultSessionCacheSize).
	SessionCacheSize int
	// UAParsesPerMinute bounds how many user agents not in the cache one
	// client may have parsed (DefaultUAParsesPerMinute; negative: no
	// bound). Parsing costs ~30 µs, a cached one ~1 µs, so a client that
	// sends a new user agent with every request would otherwise slow
	// everyone; beyond its budget its new user agents are not parsed and
	// its events are flagged bot (BotUAChurn): a browser keeps one.
	UAParsesPerMinute int
	// Salts keeps the daily visitor-key salts shared by all replicas.
	// Required.
	Salts SaltStore
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Log receives operational messages (default: discarded).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.GeoPrecision == "" {
		o.GeoPrecision = PrecisionCity
	}
	if o.UACacheSize == 0 {
		o.UACacheSize = DefaultUACacheSize
	}
	if o.UAParsesPerMinute == 0 {
		o.UAParsesPerMinute = DefaultUAParsesPerMinute
	}
	if o.SessionCacheSize == 0 {
		o.SessionCacheSize = DefaultSessionCacheSize
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	var errs []error
	switch o.GeoPrecision {
	case PrecisionCountry, PrecisionRegion, PrecisionCity:
	default:
		errs = append(errs, fmt.Errorf("geo precision %q: want country, region or city", o.GeoPrecision))
	}
	if o.UACacheSize < 0 {
		errs = append(errs, fmt.Errorf("user-agent cache size %d: want a positive number", o.UACacheSize))
	}
	if o.SessionCacheSize < 0 {
		errs = append(errs, fmt.Errorf("session cache size %d: want a positive number", o.SessionCacheSize))
	}
	for _, set := range []struct {
		name string
		ps   []netip.Prefix
	}{{"trusted proxies", o.TrustedProxies}, {"bot ranges", o.BotRanges}} {
		for i, p := range set.ps {
			if !p.IsValid() {
				errs = append(errs, fmt.Errorf("%s: entry %d is not a valid CIDR prefix", set.name, i+1))
			}
		}
	}
	if o.Salts == nil {
		errs = append(errs, errors.New("salt store: required"))
	}
	return errors.Join(errs...)
}

// Enricher fills raw events. It is safe for concurrent use.
type Enricher struct {
	trusted   []netip.Prefix
	botRanges []netip.Prefix
	parser    *uaParser
	uaCache   *clock[string, uaInfo]
	sessions  *clock[sessionKey, sessionState]
	// parseBudgets are the clients' token buckets of user-agent parses,
	// by the client's prefix as 16 bytes: a key without pointers, so the
	// collector does not scan the table.
	parseBudgets *clock[[16]byte, parseBudget]
	parseRate    float64 // parses a second; 0: no bound
	geo          *geo
	salts        *salts
	now          func() time.Time
	log          *slog.Logger
	closeOnce    sync.Once
	closeErr     error

	uaHits, uaMisses, uaRefused, geoFailures, saltFailures atomic.Uint64
}

// parseBudget is a token bucket: tokens left at last (Unix nanoseconds).
type parseBudget struct {
	tokens float64
	last   int64
}

type sessionKey struct {
	visitor uint64
	version uint8
}

type sessionState struct {
	id   uint64
	last int64 // unix nanoseconds of the visitor's last event
}

// New validates opts and opens the configured databases; an error names
// every problem, and the path of any database that could not be opened.
func New(opts Options) (*Enricher, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	g, err := openGeo(opts.CityDB, opts.ASNDB, opts.ISPDB, opts.GeoPrecision)
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	// The embedded tables are parsed here, so that a broken one fails at
	// start-up rather than on the first request.
	params()
	sources()
	botRules()
	return &Enricher{
		trusted:      opts.TrustedProxies,
		botRanges:    opts.BotRanges,
		parser:       newUAParser(opts.AllowUA),
		uaCache:      newClock[string, uaInfo](opts.UACacheSize),
		sessions:     newClock[sessionKey, sessionState](opts.SessionCacheSize),
		parseBudgets: newClock[[16]byte, parseBudget](opts.UACacheSize),
		parseRate:    max(0, float64(opts.UAParsesPerMinute)/60),
		geo:          g,
		salts:        newSalts(opts.Salts, opts.Now, opts.Log),
		now:          opts.Now,
		log:          opts.Log,
	}, nil
}

// Run keeps the daily salts in step with the store until ctx ends: it
// reloads them every SaltRefreshInterval, creates the next day's salt
// SaltPrecreate before UTC midnight and destroys salts older than
// yesterday's. It returns nil when ctx ends; store errors are logged and
// retried on the next turn.
func (e *Enricher) Run(ctx context.Context) error {
	t := time.NewTicker(SaltRefreshInterval)
	defer t.Stop()
	for {
		if err := e.salts.refresh(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("salt refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Close releases the geo databases. Call it after the last Enrich.
func (e *Enricher) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.geo.Close() })
	return e.closeErr
}

// Request is what Enrich needs to know about one beacon.
type Request struct {
	Remote        string      // r.RemoteAddr
	Header        http.Header // r.Header: User-Agent and the forwarding headers
	Page          *url.URL    // the event's page URL, required
	Referrer      *url.URL    // nil if none
	SID           string      // the snippet's tab session id, "" if none
	SiteID        uint32
	Site          SiteRules
	ConsentID     uuid.UUID
	StableVisitor bool // personalization granted: the consent id keys the visitor
}

// ClientIP is the client's address as Enrich reads it: the peer, or what a
// trusted proxy forwarded.
func (e *Enricher) ClientIP(remote string, h http.Header) netip.Addr {
	return httpapi.ClientIP(remote, h, e.trusted)
}

// Enrich fills ev's Host, Path, Query, Referrer, ReferrerHost, Source,
// UTM*, ClickID, IP, IPTrunc, VisitorKey, KeyVersion, SessionID, Browser*,
// OS*, Device, Country, Region, City, ASN, ISP, Bot and BotReason.
//
// It does no store I/O except when the day's salt is not in memory yet (Run
// creates it ahead of time). If that fails, every other field is still
// filled, VisitorKey and KeyVersion stay 0 and the error wraps ErrNoSalt:
// the caller chooses between storing the event without a visitor key and
// refusing it.
func (e *Enricher) Enrich(ctx context.Context, req Request, ev *store.Event) error {
	if req.Page == nil {
		return errors.New("enrich: request without a page URL")
	}
	now := e.now()

	var utm UTM
	ev.Host, ev.Path, ev.Query, utm, ev.ClickID = CleanURL(req.Page, req.Site)
	ev.UTMSource, ev.UTMMedium, ev.UTMCampaign, ev.UTMTerm, ev.UTMContent =
		utm.Source, utm.Medium, utm.Campaign, utm.Term, utm.Content
	ev.Referrer = cleanReferrer(req.Referrer)
	ev.ReferrerHost, ev.Source = classify(req.Referrer, ev.Host, req.Site.Domain, utm)

	ip := httpapi.ClientIP(req.Remote, req.Header, e.trusted)
	ev.IP, ev.IPTrunc = "", ""
	if ip.IsValid() {
		ev.IP, ev.IPTrunc = ip.String(), truncateIP(ip)
	}

	ua := capUA(req.Header.Get("User-Agent"))
	info := e.userAgent(ua, ip, now)
	ev.Browser, ev.BrowserVersion = info.browser, info.browserVersion
	ev.OS, ev.OSVersion, ev.Device = info.os, info.osVersion, info.device
	ev.Bot, ev.BotReason = info.botReason != "", info.botReason
	if !ev.Bot && ip.IsValid() && contains(e.botRanges, ip) {
		ev.Bot, ev.BotReason = true, BotIPRange
	}

	ev.Country, ev.Region, ev.City, ev.ASN, ev.ISP = "", "", "", 0, ""
	if e.geo.lookup(ip, ev) {
		e.geoFailures.Add(1)
	}

	var err error
	ev.VisitorKey, ev.KeyVersion = 0, 0
	if req.StableVisitor && req.ConsentID != uuid.Nil {
		ev.VisitorKey, ev.KeyVersion = consentKey(req.SiteID, req.ConsentID), KeyConsent
	} else if salt, serr := e.salts.forDay(ctx, utcDay(now)); serr != nil {
		e.saltFailures.Add(1)
		err = fmt.Errorf("enrich: %w: %w", ErrNoSalt, serr)
	} else {
		ev.VisitorKey, ev.KeyVersion = saltedKey(salt, req.SiteID, ip, ua), KeyDailySalt
	}

	ev.SessionID = 0
	switch {
	case req.SID != "":
		ev.SessionID = sidSession(req.SiteID, req.SID)
	case ev.KeyVersion != 0 && !ev.Bot:
		// Bots are left out so that they cannot crowd real visitors out
		// of the bounded session map.
		ev.SessionID = e.session(sessionKey{ev.VisitorKey, ev.KeyVersion}, now)
	}
	return err
}

// capUA cuts a user agent to maxUALen bytes.
func capUA(ua string) string {
	if len(ua) > maxUALen {
		return ua[:maxUALen]
	}
	return ua
}

// userAgent returns the cached classification of ua, parsing it on a miss
// if the client at ip has parses left.
func (e *Enricher) userAgent(ua string, ip netip.Addr, now time.Time) uaInfo {
	if info, ok := e.uaCache.Get(ua); ok {
		e.uaHits.Add(1)
		return info
	}
	if !e.mayParse(ip, now) {
		e.uaRefused.Add(1)
		return uaInfo{botReason: BotUAChurn} // not cached: others may send it
	}
	e.uaMisses.Add(1)
	info := e.parser.parse(ua)
	e.uaCache.Put(strings.Clone(ua), info) // not a slice of a larger header string
	return info
}

// mayParse takes one parse from the budget of the client at ip.
func (e *Enricher) mayParse(ip netip.Addr, now time.Time) bool {
	if e.parseRate == 0 {
		return true
	}
	t := now.UnixNano()
	ok := false
	e.parseBudgets.Update(httpapi.ClientPrefix(ip).Addr().As16(), func(b parseBudget, found bool) parseBudget {
		if !found {
			b = parseBudget{tokens: DefaultUAParseBurst, last: t}
		}
		b.tokens = min(DefaultUAParseBurst, b.tokens+float64(t-b.last)/1e9*e.parseRate)
		b.last = t
		if b.tokens >= 1 {
			b.tokens--
			ok = true
		}
		return b
	})
	return ok
}

// saltedKey is KeyDailySalt: HMAC-SHA256(salt, site ‖ IP as 16 bytes ‖ UA).
func saltedKey(salt *daySalt, site uint32, ip netip.Addr, ua string) uint64 {
	return salt.key(func(b []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, site)
		var a [16]byte
		if ip.IsValid() {
			a = ip.As16()
		}
		b = append(b, a[:]...)
		return append(b, ua...)
	})
}

const (
	consentKeyDomain = "footfall/visitor/v2\x00"
	sessionDomain    = "footfall/session\x00"
)

// consentKey is KeyConsent: SHA-256(domain ‖ site ‖ consent id).
func consentKey(site uint32, id uuid.UUID) uint64 {
	var b [len(consentKeyDomain) + 4 + 16]byte
	n := copy(b[:], consentKeyDomain)
	binary.BigEndian.PutUint32(b[n:], site)
	copy(b[n+4:], id[:])
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint64(sum[:])
}

// sidSession is the session id of a tab session: SHA-256(domain ‖ site ‖ sid).
func sidSession(site uint32, sid string) uint64 {
	var buf [128]byte
	b := append(buf[:0], sessionDomain...)
	b = binary.BigEndian.AppendUint32(b, site)
	b = append(b, sid...)
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:])
}

// session applies the inactivity rule: the visitor's current session id, or
// a new random one after SessionIdle without events.
func (e *Enricher) session(k sessionKey, now time.Time) uint64 {
	t := now.UnixNano()
	st := e.sessions.Update(k, func(old sessionState, found bool) sessionState {
		if found && t-old.last < int64(SessionIdle) {
			old.last = max(old.last, t)
			return old
		}
		id := rand.Uint64()
		for id == 0 {
			id = rand.Uint64()
		}
		return sessionState{id: id, last: t}
	})
	return st.id
}

// Stats are counters for /metrics.
type Stats struct {
	UACacheHits, UACacheMisses uint64
	// UAParsesRefused counts user agents not parsed: their client's
	// budget (Options.UAParsesPerMinute) was spent.
	UAParsesRefused uint64
	UACacheEntries  int
	SessionEntries  int
	GeoFailures     uint64 // lookups that failed (a damaged database)
	SaltFailures    uint64 // events left without a salted visitor key
}

// Stats returns the counters since New.
func (e *Enricher) Stats() Stats {
	return Stats{
		UACacheHits:     e.uaHits.Load(),
		UACacheMisses:   e.uaMisses.Load(),
		UAParsesRefused: e.uaRefused.Load(),
		UACacheEntries:  e.uaCache.Len(),
		SessionEntries:  e.sessions.Len(),
		GeoFailures:     e.geoFailures.Load(),
		SaltFailures:    e.saltFailures.Load(),
	}
}
