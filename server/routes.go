// Package server assembles Footfall's HTTP surface: every route is in this
// file, so a reader finds what answers a URL in one place.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/httpapi"
)

// Pinger reports whether the store answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options are the parts the routes serve.
type Options struct {
	Collector *collector.Collector
	Store     Pinger
	// Metrics is served on /metrics; nil serves an empty registry.
	Metrics prometheus.Gatherer
	Log     *slog.Logger
}

// New returns the HTTP handler for every route.
func New(opts Options) http.Handler {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := func(fn httpapi.HandlerFunc) http.Handler { return httpapi.Handle(log, fn) }
	ops := operations{store: opts.Store}

	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	c := opts.Collector

	r := mux.NewRouter()
	r.Handle("/api/event", h(c.HandleEvent)).Methods(http.MethodPost)
	r.Handle("/api/consent", h(c.HandleConsent)).Methods(http.MethodPost)
	r.Handle("/api/consent/policy", h(c.HandlePolicy)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}", h(c.HandleConsentState)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}/data", h(c.HandleConsentData)).Methods(http.MethodGet)
	r.Handle("/api/consent/{id}/data", h(c.HandleConsentErase)).Methods(http.MethodDelete)
	for _, path := range []string{"/api/event", "/api/consent", "/api/consent/policy", "/api/consent/{id}", "/api/consent/{id}/data"} {
		r.Handle(path, h(c.HandlePreflight)).Methods(http.MethodOptions)
	}

	r.Handle("/healthz", h(ops.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", h(ops.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(opts.Metrics, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	r.NotFoundHandler = h(func(http.ResponseWriter, *http.Request) error {
		return httpapi.Errorf(http.StatusNotFound, "no such endpoint")
	})
	r.MethodNotAllowedHandler = h(func(http.ResponseWriter, *http.Request) error {
		return httpapi.Errorf(http.StatusMethodNotAllowed, "method not allowed")
	})
	return r
}

type operations struct {
	store Pinger
}

// healthz says the process serves; it does not depend on the store.
func (o operations) healthz(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz says whether the store answers, so a load balancer can route around
// a collector that cannot write.
func (o operations) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := o.store.Ping(ctx); err != nil {
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unreachable", Err: err}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
