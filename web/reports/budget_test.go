package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/reports"
)

// TestBudget: on ClickHouse, a report over its (tiny) budget is a 503
// with a JSON error that says what to narrow, a log line and a count on
// /metrics; the same report under the default budget answers.
func TestBudget(t *testing.T) {
	s, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, s)
	path := "/api/v1/stats/breakdown?site=shop.example&period=7d&date=2026-03-15&property=source&metrics=visitors,visits&filters=country==DE%3Bpage==/pricing"
	if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), path); rec.Code != http.StatusOK {
		t.Fatalf("default budget: got %d %s, want 200", rec.Code, rec.Body)
	}

	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	h := reports.New(reports.Options{Store: s, Config: e.cfg, Now: func() time.Time { return reportsNow },
		Budget: time.Nanosecond, Metrics: reg})
	e.handler = server.New(server.Options{Auth: e.auth.Auth, Reports: h, Store: s,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := e.get(t, e.auth.Token(auth.RoleAnalyst), path)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("tiny budget: got %d %s, want 503", rec.Code, rec.Body)
	}
	var body struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, "narrow") {
		t.Errorf("got body %s (%v), want a JSON error saying what to narrow", rec.Body, err)
	}
	if !strings.Contains(logs.String(), "over its") || !strings.Contains(logs.String(), "/api/v1/stats/breakdown") {
		t.Errorf("got log %q, want the over-budget report logged with its route", logs.String())
	}
	metrics := httptest.NewRecorder()
	server.NewMetrics(reg).ServeHTTP(metrics, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(metrics.Body.String(), "footfall_reports_over_budget_total 1") {
		t.Errorf("got /metrics %s, want footfall_reports_over_budget_total 1", metrics.Body)
	}
}
