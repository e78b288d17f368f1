// Package server assembles Footfall's HTTP surface: every route is in this
// file, so a reader finds what answers a URL in one place.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/web"
	"github.com/footfall/footfall/web/admin"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/dashboard"
	"github.com/footfall/footfall/web/reports"
	"github.com/footfall/footfall/web/share"
	"github.com/footfall/footfall/web/unsubscribe"
)

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options are the parts the routes serve.
type Options struct {
	Collector *collector.Collector
	Store     Pinger
	// Web serves the tracker scripts and the pixel; nil serves neither.
	Web *web.Handler
	Log *slog.Logger
	// Ready, if set, is /readyz's whole check: can this collector accept
	// events (its disk spool writable and not full). The store is then not
	// pinged: a collector with a spool keeps accepting through a store
	// outage, and a load balancer must not take every collector out at
	// once. An *httpapi.Error it returns is the answer (a 503 with a short
	// reason such as "spool full"); any other error is a 503 "not ready".
	// Without Ready, /readyz pings the store (2 s budget).
	Ready func() error
	// StoreWritable, if set, is the store's own signal in /readyz's body
	// ("store": "writable" or "failing"); footfall_store_writable has it too.
	StoreWritable func() bool
	// Auth serves /login, /logout and /api/v1/me, and guards the routes
	// that need a principal; nil serves none of them.
	Auth *auth.Auth
	// Dashboard serves the analysts' dashboard at / and its script and
	// style sheet under /dashboard/; nil serves neither.
	Dashboard *dashboard.Handler
	// Reports serves the stats API (/api/v1/sites, /api/v1/stats/…,
	// /api/v1/aggregator/status: analysts and admins) and the partner API
	// (/api/partner/v1/…: partners); it needs Auth. Nil serves neither.
	// Every report runs under its time budget (Reports.Budget).
	Reports *reports.Handler
	// Admin serves the administrators' API (/api/v1/admin/…: erasure,
	// access, newsletter links, goals, audit log); it needs Auth. Nil serves none.
	Admin *admin.API
	// Unsubscribe serves the unsubscribe links of the scheduled e-mail
	// reports (/reports/unsubscribe/{token}); nil serves none.
	Unsubscribe *unsubscribe.Handler
	// Share serves share links: the admins' /api/v1/admin/shares (needs
	// Auth) and, for anyone holding a link, /share/{link} and
	// /api/share/v1/{link}. Nil serves none of them.
	Share *share.Handler
}

// New returns the HTTP handler for every route.
func New(opts Options) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := func(fn httpapi.HandlerFunc) http.Handler { return httpapi.Handle(log, fn) }
	ops := &operations{store: opts.Store, ready: opts.Ready, storeWritable: opts.StoreWritable, log: log}

	c := opts.Collector

	// No path cleaning: mux would answer a redirect (a Location header) to
	// a cleaned path, and /r/ must never redirect anything but a signed link.
	r := mux.NewRouter().SkipClean(true)
	// POST /api/event is most of the traffic: beaconFirst serves it before
	// the router. The same handler stays registered by path for the 405
	// of other methods and for route listings.
	beacon := httpapi.HandleRoute(log, "/api/event", c.HandleEvent)
	r.Handle("/api/event", beacon).Methods(http.MethodPost)
	r.Handle("/api/consent", h(c.HandleConsent)).Methods(http.MethodPost)
	r.Handle("/api/consent/policy", h(c.HandlePolicy)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}", h(c.HandleConsentState)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}/data", h(c.HandleConsentData)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}/data", h(c.HandleConsentErase)).Methods(http.MethodDelete)
	r.Handle("/r/{token:.+}", h(c.HandleEmailClick)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/p/{token}.gif", h(c.HandleEmailOpen)).Methods(http.MethodGet, http.MethodHead)
	for _, path := range []string{"/api/event", "/api/consent", "/api/consent/policy"} {
		r.Handle(path, h(c.HandlePreflight)).Methods(http.MethodOptions)
	}
	for _, path := range []string{"/api/consent/{id}", "/api/consent/{id}/data"} {
		r.Handle(path, h(c.HandleVisitorPreflight)).Methods(http.MethodOptions)
	}

	if wh := opts.Web; wh != nil {
		for _, path := range wh.ScriptPaths() {
			r.Handle(path, h(wh.HandleScript)).Methods(http.MethodGet, http.MethodHead)
		}
		r.Handle("/p.gif", h(wh.HandlePixel)).Methods(http.MethodGet)
	}

	if a := opts.Auth; a != nil {
		r.Handle("/login", h(a.HandleLogin)).Methods(http.MethodPost)
		r.Handle("/logout", h(a.HandleLogout)).Methods(http.MethodPost)
		r.Handle("/api/v1/me", h(a.Require()(a.HandleMe))).Methods(http.MethodGet)
		if rp := opts.Reports; rp != nil {
			analyst, partner := a.Require(auth.RoleAnalyst), a.Require(auth.RolePartner)
			r.Handle("/api/v1/sites", h(analyst(rp.HandleSites))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/aggregate", h(analyst(rp.Budget(rp.HandleAggregate)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/timeseries", h(analyst(rp.Budget(rp.HandleTimeseries)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/breakdown", h(analyst(rp.Budget(rp.HandleBreakdown)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/funnel", h(analyst(rp.Budget(rp.HandleFunnel)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/realtime", h(analyst(rp.Budget(rp.HandleRealtime)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/consent", h(analyst(rp.Budget(rp.HandleConsent)))).Methods(http.MethodGet)
			r.Handle("/api/v1/stats/dimensions", h(analyst(rp.HandleDimensions))).Methods(http.MethodGet)
			r.Handle("/api/v1/aggregator/status", h(analyst(rp.HandleStatus))).Methods(http.MethodGet)
			r.Handle("/api/v1/annotations", h(analyst(rp.HandleAnnotations))).Methods(http.MethodGet)
			r.Handle("/api/v1/annotations", h(analyst(rp.HandleAnnotationWrite))).Methods(http.MethodPost)
			r.Handle("/api/v1/annotations/{id}", h(analyst(rp.HandleAnnotationWrite))).Methods(http.MethodPut)
			r.Handle("/api/v1/annotations/{id}", h(analyst(rp.HandleAnnotationDelete))).Methods(http.MethodDelete)
			r.Handle("/api/v1/segments", h(analyst(rp.HandleSegments))).Methods(http.MethodGet)
			r.Handle("/api/v1/segments", h(analyst(rp.HandleSegmentWrite))).Methods(http.MethodPost)
			r.Handle("/api/v1/segments/{id}", h(analyst(rp.HandleSegmentWrite))).Methods(http.MethodPut)
			r.Handle("/api/v1/segments/{id}", h(analyst(rp.HandleSegmentDelete))).Methods(http.MethodDelete)
			r.Handle("/api/partner/v1/aggregates", h(partner(rp.Budget(rp.HandlePartnerAggregates)))).Methods(http.MethodGet)
		}
		if ad := opts.Admin; ad != nil {
			admins := a.Require(auth.RoleAdmin)
			r.Handle("/api/v1/admin/erase", h(admins(ad.HandleErase))).Methods(http.MethodPost)
			r.Handle("/api/v1/admin/access", h(admins(ad.HandleAccess))).Methods(http.MethodGet)
			r.Handle("/api/v1/admin/links", h(admins(ad.HandleLinks))).Methods(http.MethodPost)
			r.Handle("/api/v1/admin/audit", h(admins(ad.HandleAudit))).Methods(http.MethodGet)
			r.Handle("/api/v1/admin/goals", h(admins(ad.HandleGoals))).Methods(http.MethodGet)
			r.Handle("/api/v1/admin/goals", h(admins(ad.HandleGoalWrite))).Methods(http.MethodPost)
			r.Handle("/api/v1/admin/goals/{id}", h(admins(ad.HandleGoalWrite))).Methods(http.MethodPut)
			r.Handle("/api/v1/admin/goals/{id}", h(admins(ad.HandleGoalDelete))).Methods(http.MethodDelete)
		}
		if sh := opts.Share; sh != nil {
			admins := a.Require(auth.RoleAdmin)
			r.Handle("/api/v1/admin/shares", h(admins(sh.HandleList))).Methods(http.MethodGet)
			r.Handle("/api/v1/admin/shares", h(admins(sh.HandleCreate))).Methods(http.MethodPost)
			r.Handle("/api/v1/admin/shares/{id}", h(admins(sh.HandleRevoke))).Methods(http.MethodDelete)
		}
	}

	// Share links: the link is the credential, so no Auth.
	if sh := opts.Share; sh != nil {
		r.Handle("/share/{link}", h(sh.HandlePage)).Methods(http.MethodGet, http.MethodHead)
		for _, path := range sh.AssetPaths() {
			r.Handle(path, h(sh.HandleAsset)).Methods(http.MethodGet, http.MethodHead)
		}
		r.Handle("/api/share/v1/{link}", h(sh.HandleData)).Methods(http.MethodGet)
		r.Handle("/api/share/v1/{link}/unlock", h(sh.HandleUnlock)).Methods(http.MethodPost)
	}

	if u := opts.Unsubscribe; u != nil {
		r.Handle("/reports/unsubscribe/{token}", h(u.HandlePage)).Methods(http.MethodGet, http.MethodHead)
		r.Handle("/reports/unsubscribe/{token}", h(u.HandleUnsubscribe)).Methods(http.MethodPost)
	}

	if d := opts.Dashboard; d != nil {
		r.Handle("/", h(d.HandlePage)).Methods(http.MethodGet, http.MethodHead)
		for _, path := range d.AssetPaths() {
			r.Handle(path, h(d.HandleAsset)).Methods(http.MethodGet, http.MethodHead)
		}
	}

	r.Handle("/healthz", h(ops.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", h(ops.readyz)).Methods(http.MethodGet, http.MethodHead)

	r.NotFoundHandler = h(func(http.ResponseWriter, *http.Request) error {
		return httpapi.Errorf(http.StatusNotFound, "no such endpoint")
	})
	r.MethodNotAllowedHandler = h(func(http.ResponseWriter, *http.Request) error {
		return httpapi.Errorf(http.StatusMethodNotAllowed, "method not allowed")
	})
	return beaconFirst{beacon: beacon, rest: r}
}

// beaconFirst serves exactly POST /api/event with beacon and everything
// else with rest (the router). The router copies each request it routes
// twice (its route and variables go into the context): a tenth of a
// beacon's garbage, for a route without variables.
type beaconFirst struct{ beacon, rest http.Handler }

func (b beaconFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/api/event" {
		b.beacon.ServeHTTP(w, r)
		return
	}
	b.rest.ServeHTTP(w, r)
}

// Unwrap returns the router, which holds every route (/api/event too),
// for route listings.
func (b beaconFirst) Unwrap() http.Handler { return b.rest }

// NewMetrics returns the handler of serve's metrics listener
// (-metrics-addr): GET /metrics and nothing else. The metrics are kept off
// New's routes, which a reverse proxy publishes.
func NewMetrics(g prometheus.Gatherer) http.Handler {
	m := http.NewServeMux()
	m.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return m
}

type operations struct {
	store         Pinger
	ready         func() error
	storeWritable func() bool
	log           *slog.Logger

	pinging atomic.Bool // a store probe is under way

	mu         sync.Mutex
	nextLog    time.Time // failed probes are logged at most once per probeLogInterval
	suppressed int
}

// Probe budget and logging.
const (
	probeTimeout     = 2 * time.Second
	probeLogInterval = time.Minute
)

// healthz says the process serves; it does not depend on the store.
func (o *operations) healthz(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says whether this collector can accept events, so a load balancer
// routes around one that cannot: with a spool (Ready), whether the spool
// takes events; without, whether the store answers.
func (o *operations) readyz(w http.ResponseWriter, r *http.Request) error {
	if o.ready != nil {
		if err := o.ready(); err != nil {
			var he *httpapi.Error
			if !errors.As(err, &he) {
				he = &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "not ready", Err: err}
			}
			return o.notReady(he)
		}
		body := map[string]string{"status": "ready"}
		if o.storeWritable != nil {
			body["store"] = "writable"
			if !o.storeWritable() {
				body["store"] = "failing" // events go to the spool meanwhile
			}
		}
		httpapi.WriteJSON(w, http.StatusOK, body)
		return nil
	}
	if err := o.ping(r.Context()); err != nil {
		return o.notReady(&httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unreachable", Err: err})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// ping asks the store within probeTimeout, whatever the driver does with a
// server that accepts and never answers: the probe's goroutine finishes
// with the driver's own timeouts, and one at a time runs.
func (o *operations) ping(ctx context.Context) error {
	if !o.pinging.CompareAndSwap(false, true) {
		return errors.New("the previous probe still waits for the store")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), probeTimeout)
	done := make(chan error, 1)
	go func() {
		defer o.pinging.Store(false)
		defer cancel()
		done <- o.store.Ping(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store did not answer in %v", probeTimeout)
	}
}

// notReady logs a failed probe at most once per probeLogInterval (probes
// come every few seconds from every load balancer), with how many were
// not logged, and answers it.
func (o *operations) notReady(he *httpapi.Error) error {
	o.mu.Lock()
	now := time.Now()
	if now.Before(o.nextLog) {
		o.suppressed++
		o.mu.Unlock()
	} else {
		n := o.suppressed
		o.suppressed, o.nextLog = 0, now.Add(probeLogInterval)
		o.mu.Unlock()
		o.log.Warn("not ready", "reason", he.Msg, "err", he.Err, "unlogged_since_last", n)
	}
	return &httpapi.Error{Code: he.Code, Msg: he.Msg, Err: he.Err, Reported: true}
}
