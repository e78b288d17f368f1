// Package collector receives beacons and consent decisions. A beacon is
// validated, checked against the visitor's consent token, stripped of what
// that consent does not cover, and handed to the buffered writer; its
// handler never waits on the store.
package collector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Ledger is the consent ledger.
type Ledger interface {
	AppendConsent(ctx context.Context, r store.ConsentRecord) error
	// AppendConsentUpdate records an update apart from the ledger, where
	// every replica looks for changes (ConsentStore.ConsentChanges).
	AppendConsentUpdate(ctx context.Context, siteID uint32, c store.ConsentChange) error
	ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]store.ConsentRecord, error)
}

// Options are what a Collector needs.
type Options struct {
	Sites   *Sites
	Config  *config.Config // site rules and consent policies; nil: defaults
	Consent *ConsentState
	Ledger  Ledger
	// PolicyVersions are the recorded consent policy versions with the time
	// each took effect: the notices GET /api/consent/policy shows.
	PolicyVersions []store.PolicyVersion
	// Chain appends this process's consent records; nil starts a new one.
	Chain  *consent.Chain
	Buffer *Buffer
	// Erasures erases a consent's raw events as durable work: here, again
	// after a withdrawal learnt from another replica. Required.
	Erasures *erasure.Service
	// Subjects serves a visitor's access to and erasure of their raw
	// events, and the erasure of a withdrawal; over Erasures. Required.
	Subjects *subject.Service
	// Enricher turns a consented request into a full row (IP, user agent,
	// referrer class, geo, visitor key, session). Required.
	Enricher *enrich.Enricher
	Metrics  *Metrics
	// ConsentRate limits POST /api/consent per client (IPv4 address or
	// IPv6 /64): ConsentRate decisions a minute, bursts of ConsentBurst,
	// for the ConsentClients most recent clients. Defaults 30, 10 and
	// 100000; a negative ConsentRate turns the limit off.
	ConsentRate, ConsentBurst, ConsentClients int
	Log                                       *slog.Logger
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Collector serves the beacon and consent endpoints.
type Collector struct {
	sites    *Sites
	rules    map[string]config.Site
	policies map[uint32][]store.PolicyVersion
	consent  *ConsentState
	ledger   Ledger
	chain    *consent.Chain
	buffer   *Buffer
	erasures *erasure.Service
	subjects *subject.Service
	enrich   *enrich.Enricher
	metrics  *Metrics
	limiter  *clientLimiter // of consent decisions; nil: no limit
	log      *slog.Logger
	now      func() time.Time
	// defaults is the consent policy of a site the config does not list,
	// built once: building it parses the built-in banner texts (YAML),
	// which cost half the beacon path's time when done per request.
	defaults config.Consent
}

// New returns a collector.
func New(opts Options) *Collector {
	c := &Collector{
		sites: opts.Sites, consent: opts.Consent, ledger: opts.Ledger, chain: opts.Chain,
		buffer: opts.Buffer, erasures: opts.Erasures, subjects: opts.Subjects, enrich: opts.Enricher, metrics: opts.Metrics, log: opts.Log, now: opts.Now,
		rules: map[string]config.Site{}, defaults: config.DefaultConsent(),
		policies: map[uint32][]store.PolicyVersion{},
	}
	for _, p := range opts.PolicyVersions {
		c.policies[p.SiteID] = append(c.policies[p.SiteID], p)
	}
	if opts.Config != nil {
		for _, s := range opts.Config.Sites {
			c.rules[s.Domain] = s
		}
	}
	if opts.ConsentRate >= 0 {
		c.limiter = newClientLimiter(cmp.Or(opts.ConsentRate, 30), cmp.Or(opts.ConsentBurst, 10), cmp.Or(opts.ConsentClients, 100000))
	}
	if c.chain == nil {
		c.chain = consent.NewChain(uuid.New())
	}
	if c.metrics == nil {
		c.metrics = NewMetrics(nil)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// siteRules returns the configured rules of a site, or the defaults.
func (c *Collector) siteRules(domain string) config.Site {
	if s, ok := c.rules[domain]; ok {
		return s
	}
	return config.Site{Domain: domain, Consent: c.defaults}
}

func policyOf(s config.Site) consent.Policy {
	return consent.Policy{Version: s.Consent.PolicyVersion, MaxAge: time.Duration(s.Consent.MaxAgeDays) * 24 * time.Hour}
}

// privacySignal reports whether the request carries a signal the site's
// policy treats as "no marketing, no sharing": Sec-GPC, or DNT when the
// policy treats it like GPC.
func privacySignal(r *http.Request, s config.Site) bool {
	if s.Consent.GPC != "deny_marketing" {
		return false
	}
	return r.Header.Get("Sec-GPC") == "1" || s.Consent.DNT == "like_gpc" && r.Header.Get("DNT") == "1"
}

// HandleEvent is POST /api/event: one event or a small batch. 202 when
// something was stored (a bot's event too, flagged), 204 when everything
// was dropped (no valid consent), 4xx for bad input (and then nothing of
// the body is stored).
func (c *Collector) HandleEvent(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	if err := checkContentType(r); err != nil {
		c.metrics.dropped.WithLabelValues("invalid").Inc()
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		c.metrics.dropped.WithLabelValues("invalid").Inc()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", MaxBodyBytes)
		}
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "could not read body", Err: err}
	}
	n, err := c.AcceptBody(r, body.Bytes())
	bodies.Put(body) // the beacons hold copies of what they need
	if errors.Is(err, errBusy) {
		w.Header().Set("Retry-After", "1")
	}
	switch {
	case err != nil:
		return err
	case n == 0:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// AcceptBody takes a JSON body of one event or a batch, as POST /api/event
// does, and returns how many events it queued (Accept).
func (c *Collector) AcceptBody(r *http.Request, body []byte) (int, error) {
	beacons, err := decodeBeacons(body)
	if err != nil {
		c.metrics.dropped.WithLabelValues("invalid").Inc()
		return 0, err
	}
	return c.Accept(r, beacons)
}

// errBusy marks the answer of a full queue and spool: retry later.
var errBusy = errors.New("queue and spool full")

// Accept is the event path of every beacon, whichever way it came (POST
// /api/event, the pixel GET /p.gif): each is validated, checked against
// its consent, enriched from r (the client's address and headers) and
// queued. It returns how many events were queued; 0 when every one was
// dropped on purpose (no consent). An error for bad input refuses them
// all; one for a full queue and spool (errBusy) refuses the rest.
func (c *Collector) Accept(r *http.Request, beacons []Beacon) (int, error) {
	events := make([]store.Event, 0, len(beacons))
	for i := range beacons {
		e, keep, err := c.event(r, &beacons[i])
		if err != nil {
			c.metrics.dropped.WithLabelValues("invalid").Add(float64(len(beacons)))
			return 0, err
		}
		if keep {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		return 0, nil
	}
	// The buffer queues the events, or spools what the queue cannot hold;
	// with -durability=fsync it returns after the spool's fsync.
	n, err := c.buffer.EnqueueAll(events)
	c.metrics.accepted.Add(float64(n))
	if err != nil {
		// Neither queue nor spool took the rest (the earlier events of a
		// batch are accepted): the client should retry later. Logged as a
		// periodic summary, not a line per request.
		c.metrics.dropped.WithLabelValues("busy").Add(float64(len(events) - n))
		c.metrics.busy.note(c.log, c.now(), len(events)-n, err)
		return n, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "busy, retry later", Err: fmt.Errorf("%w: %w", errBusy, err), Reported: true}
	}
	return n, nil
}

// event validates a beacon, checks its consent and builds the row to store.
// keep is false when the event is dropped on purpose (the reason counted).
func (c *Collector) event(r *http.Request, b *Beacon) (e store.Event, keep bool, err error) {
	p, err := validate(b)
	if err != nil {
		return e, false, err
	}
	site, ok, err := c.sites.Lookup(r.Context(), p.site)
	if err != nil {
		return e, false, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
	}
	if !ok {
		return e, false, httpapi.Errorf(http.StatusNotFound, "unknown site %q: add it with footfall site add", p.site)
	}
	rules := c.siteRules(site.Domain)
	now := c.now().UTC().Truncate(time.Second)
	claims, reason := consent.Gate(c.consent.Keyring(), b.Token, site.ID, policyOf(rules), c.consent.Head, now)
	// An exempt site counts visitors who have made no decision; any
	// decision, a refusal or an invalid token included, is respected.
	exempt := reason == consent.NoToken && rules.Exempt
	if exempt && privacySignal(r, rules) {
		reason = optedOut
	}
	if reason != consent.OK && !exempt || reason == optedOut {
		c.metrics.dropped.WithLabelValues(string(reason)).Inc()
		return e, false, nil
	}
	sid := b.SID
	if exempt {
		sid = "" // nothing is stored in the browser: sessions come from the daily key
	}
	e = store.Event{
		ID:              uuid.New(),
		SiteID:          site.ID,
		Type:            p.typ,
		Time:            now,
		ReceivedAt:      now,
		ConsentID:       claims.ConsentID,
		PolicyVersion:   strconv.FormatUint(uint64(claims.PolicyVersion), 10),
		UserID:          b.UserID,
		Name:            b.Name,
		Target:          enrich.CleanTarget(b.Target, enrich.SiteRules{AllowedQuery: rules.AllowedQuery}),
		Props:           p.props,
		ScreenWidth:     uint16(b.W),
		Language:        p.lang,
		EngagedMS:       uint32(b.MS),
		ScrollDepth:     uint8(b.Scroll),
		RevenueAmount:   p.amount,
		RevenueCurrency: p.currency,
	}
	err = c.enrich.Enrich(r.Context(), enrich.Request{
		Remote: r.RemoteAddr, Header: r.Header, Page: p.url, Referrer: p.referrer, SID: sid,
		SiteID: site.ID, ConsentID: claims.ConsentID, StableVisitor: claims.Categories.Has(store.ConsentPersonalization),
		Site: enrich.SiteRules{Domain: site.Domain, HashRouting: rules.HashRouting, AllowedQuery: rules.AllowedQuery},
	}, &e)
	if errors.Is(err, enrich.ErrNoSalt) {
		// Everything else is filled: keep the visit, without a visitor key
		// (counted, so an operator sees unique visitors undercounted).
		c.metrics.noSalt.Inc()
	} else if err != nil {
		return e, false, err
	}
	if e.Bot {
		// Kept, flagged: reports do not count bots as visits, operators can
		// still count them by reason.
		c.metrics.bots.WithLabelValues(e.BotReason).Inc()
	}
	if exempt {
		if !firstParty(e.Host, site.Domain) {
			c.metrics.dropped.WithLabelValues(notFirstParty).Inc()
			return e, false, nil
		}
		consent.FilterExempt(&e)
		c.metrics.exempt.Inc()
		return e, true, nil
	}
	// A decision made under GPC (the header, or the browser's JS signal
	// the snippet reported) makes every event under its token a GPC event.
	consent.Filter(&e, claims.Categories, claims.GPC || privacySignal(r, rules))
	return e, true, nil
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// HandlePreflight answers CORS preflights for the public endpoints: the
// snippet may call them from any page that embeds it. No credentials.
func (c *Collector) HandlePreflight(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setCORS allows any origin. The header is assigned a shared, canonical
// value: Header().Set would canonicalise the name and allocate the value
// on every beacon.
func setCORS(w http.ResponseWriter) {
	w.Header()["Access-Control-Allow-Origin"] = anyOrigin
}
