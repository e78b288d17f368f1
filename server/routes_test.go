package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/httpapi"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func TestOperationalRoutes(t *testing.T) {
	tests := []struct {
		name, method, path string
		store              pinger
		code               int
		body               string
	}{
		{"healthz", "GET", "/healthz", pinger{}, 200, `"ok"`},
		{"healthz ignores the store", "GET", "/healthz", pinger{errors.New("down")}, 200, `"ok"`},
		{"readyz", "GET", "/readyz", pinger{}, 200, `"ready"`},
		{"readyz with store down", "GET", "/readyz", pinger{errors.New("dial tcp 10.0.0.1:9000: refused")}, 503, `"store unreachable"`},
		{"unknown route", "GET", "/nope", pinger{}, 404, `"error"`},
		{"wrong method", "GET", "/api/event", pinger{}, 405, `"error"`},
		{"preflight", "OPTIONS", "/api/event", pinger{}, 204, ``},
		{"beacon without a body", "POST", "/api/event", pinger{}, 400, `"empty body`},
		{"beacon path, other case", "POST", "/api/Event", pinger{}, 404, `"error"`},
		// The metrics have a listener of their own (NewMetrics): the
		// routes a proxy publishes do not serve them.
		{"no metrics", "GET", "/metrics", pinger{}, 404, `"error"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Collector: collector.New(collector.Options{}), Store: tt.store})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, w.Code, w.Body, tt.code, tt.body)
			}
			if strings.Contains(w.Body.String(), "10.0.0.1") {
				t.Errorf("internal cause leaked to the client: %s", w.Body)
			}
		})
	}
}

func TestReadyzReportsTheSpool(t *testing.T) {
	tests := []struct {
		name  string
		store pinger
		ready func() error
		code  int
		body  string
	}{
		{"spool fine", pinger{}, func() error { return nil }, 200, `"ready"`},
		{"spool full", pinger{}, func() error {
			return &httpapi.Error{Code: 503, Msg: "spool full", Err: errors.New("/var/lib/footfall/spool: 1073741824 bytes")}
		}, 503, `"spool full"`},
		{"spool full and store down: the spool is named", pinger{errors.New("down")}, func() error {
			return &httpapi.Error{Code: 503, Msg: "spool full"}
		}, 503, `"spool full"`},
		{"plain error", pinger{}, func() error { return errors.New("/var/lib/footfall/spool: read-only") }, 503, `"not ready"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(Options{Collector: collector.New(collector.Options{}), Store: tt.store, Ready: tt.ready})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("readyz = %d %s, want %d containing %s", w.Code, w.Body, tt.code, tt.body)
			}
			if strings.Contains(w.Body.String(), "/var/lib") {
				t.Errorf("internal cause leaked to the client: %s", w.Body)
			}
		})
	}
}

// hung is a store that accepts a probe and never answers (a frozen
// ClickHouse), whatever the context says, until released.
type hung struct{ release chan struct{} }

func (h hung) Ping(context.Context) error { <-h.release; return nil }

// A probe of a store that never answers ends within its 2 s budget, one
// probe at a time waits on the store, and failed probes are logged once a
// minute, not once each.
func TestReadyzProbeIsBoundedAndQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		store := hung{release: make(chan struct{})}
		defer close(store.release)
		h := New(Options{Collector: collector.New(collector.Options{}), Store: store, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		for i := range 20 {
			start := time.Now()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != 503 || !strings.Contains(w.Body.String(), `"store unreachable"`) {
				t.Fatalf("probe %d: %d %s, want 503 store unreachable", i, w.Code, w.Body)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("probe %d took %v, over its 2s budget", i, took)
			}
		}
		if n := strings.Count(logs.String(), "\n"); n != 1 {
			t.Errorf("%d log lines for 20 failed probes, want 1:\n%s", n, logs.String())
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a failed probe logged at ERROR:\n%s", logs.String())
		}
	})
}

// With a spool, /readyz says whether the collector can accept events: a
// store outage leaves it ready, with the store's state in the body.
func TestReadyzWithSpoolIgnoresTheStore(t *testing.T) {
	h := New(Options{Collector: collector.New(collector.Options{}), Store: pinger{errors.New("down")},
		Ready: func() error { return nil }, StoreWritable: func() bool { return false }})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"store":"failing"`) {
		t.Errorf("readyz = %d %s, want 200 with store failing", w.Code, w.Body)
	}
}

func TestMetricsHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "footfall_test_total", Help: "a test counter"})
	reg.MustRegister(c)
	c.Add(3)
	h := NewMetrics(reg)
	for _, tt := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/metrics", 200, "footfall_test_total 3"},
		{"GET", "/", 404, ""},
		{"GET", "/api/event", 404, ""},
		{"POST", "/metrics", 405, ""},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.body) {
			t.Errorf("%s %s = %d %s, want %d containing %q", tt.method, tt.path, w.Code, w.Body, tt.code, tt.body)
		}
	}
}
