package collector_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// rigStore is what the rig needs of a real backend.
type rigStore interface {
	app.Store
	AddSite(ctx context.Context, domain string) (store.Site, error)
	Events(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	RetireConsentKey(ctx context.Context, kid string) error
	ConsentRecords(ctx context.Context, siteID uint32, from, to time.Time) ([]store.ConsentRecord, error)
}

// backends opens a fresh, migrated store of each kind.
var backends = []struct {
	name string
	open func(t testing.TB) rigStore
}{
	{"sqlite", func(t testing.TB) rigStore {
		return sqlitetest.Open(t)
	}},
	{"clickhouse", func(t testing.TB) rigStore {
		st, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// rig is a collector over a real store, with a consent key in it.
type rig struct {
	store    rigStore
	site     store.Site
	consent  *collector.ConsentState
	buffer   *collector.Buffer
	erasures *erasure.Service
	product  *app.App
	c        *collector.Collector
	now      time.Time
	policy   uint32
	handler  http.Handler
}

// newRig returns a collector whose buffer writes in the background unless
// paused (then nothing is written before stored is called).
func newRig(t testing.TB, paused bool) *rig {
	t.Helper()
	return newRigOn(t, backends[0].open(t), paused)
}

func newRigOn(t testing.TB, st rigStore, paused bool) *rig {
	t.Helper()
	return newRigWith(t, st, nil, paused)
}

// newRigWith builds a rig with a config (nil: defaults, policy version 1).
func newRigWith(t testing.TB, st rigStore, cfg *config.Config, paused bool) *rig {
	t.Helper()
	ctx := context.Background()
	site, err := st.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{store: st, site: site, now: time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC), policy: 1}
	if cfg != nil {
		r.policy = cfg.SiteByDomain(site.Domain).Consent.PolicyVersion
	}
	r.product = newProduct(t, st, cfg, func() time.Time { return r.now })
	r.consent, r.buffer, r.erasures, r.c, r.handler = r.product.Consent, r.product.Buffer, r.product.Erasures, r.product.Collector, r.product.Handler
	if paused {
		// Only the erasure loop runs: nothing is written before stored.
		ectx, stopErasures := context.WithCancel(context.Background())
		erasing := make(chan struct{})
		go func() { defer close(erasing); r.erasures.Run(ectx) }()
		t.Cleanup(func() { stopErasures(); <-erasing; r.product.Stop(time.Now()) })
		return r
	}
	r.product.Start(ctx)
	t.Cleanup(func() {
		if err := r.product.Stop(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return r
}

// newProduct builds the collector as footfall serve does (server/app), on
// the rig's clock, with a small queue that writes only when asked and
// consent state read at the start only (the clock stands still).
func newProduct(t testing.TB, st rigStore, cfg *config.Config, now func() time.Time) *app.App {
	t.Helper()
	// Heads live as long as the longest token (the default policy's 13
	// months, as serve's): the rig's clock is fixed in the past.
	product, err := app.New(context.Background(), app.Options{
		Store: st, Config: cfg, ConsentRefresh: time.Hour,
		Buffer: collector.BufferOptions{QueueSize: 100, FlushSize: 100, FlushInterval: time.Hour},
		Now:    now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return product
}

// token signs a consent token for the rig's site without the ledger.
func (r *rig) token(t testing.TB, cats store.Categories) string {
	t.Helper()
	tok, err := r.consent.Keyring().Sign(consent.Claims{
		ConsentID: uuid.New(), SiteID: r.site.ID, Categories: cats, PolicyVersion: r.policy,
		Issued: r.now.Add(-time.Minute), Expires: r.now.Add(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// post sends body to the event endpoint; {{token}} in it becomes a token
// granting every category.
func (r *rig) post(t *testing.T, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	body = strings.ReplaceAll(body, "{{token}}", r.token(t, store.ConsentAll))
	return r.do(t, http.MethodPost, "/api/event", contentType, body, nil)
}

func (r *rig) do(t testing.TB, method, path, contentType, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	r.handler.ServeHTTP(w, req)
	return w
}

// stored writes out what is queued and returns every event of the rig's site.
func (r *rig) stored(t *testing.T) []store.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a paused buffer: Run drains what is queued and returns
	if err := r.buffer.Run(ctx); err != nil {
		t.Fatalf("drain: %v", err)
	}
	events, err := r.store.Events(context.Background(), store.EventQuery{SiteID: r.site.ID, From: r.now.Add(-time.Hour), To: r.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestBadInputStoresNothing(t *testing.T) {
	valid := `{"site":"example.test","type":"pageview","url":"https://example.test/a"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		code        int
		errContains string
	}{
		{"malformed JSON", "application/json", `{"site":`, 400, "malformed JSON"},
		{"not an object", "application/json", `"pageview"`, 400, "malformed JSON"},
		{"empty body", "text/plain", ``, 400, "empty body"},
		{"wrong content type", "application/xml", valid, 415, "unsupported content type"},
		{"multipart", "multipart/form-data; boundary=x", valid, 415, "unsupported content type"},
		{"oversized body", "text/plain", `{"site":"example.test","type":"pageview","url":"https://example.test/a","name":"` + strings.Repeat("x", collector.MaxBodyBytes) + `"}`, 413, "body over"},
		{"unknown site", "application/json", `{"site":"other.test","type":"pageview","url":"https://other.test/"}`, 404, "unknown site"},
		{"missing site", "application/json", `{"type":"pageview","url":"https://example.test/a"}`, 400, `missing field "site"`},
		{"missing type", "application/json", `{"site":"example.test","url":"https://example.test/a"}`, 400, `missing field "type"`},
		{"missing url", "application/json", `{"site":"example.test","type":"pageview"}`, 400, `missing field "url"`},
		{"unknown type", "application/json", `{"site":"example.test","type":"purchase","url":"https://example.test/a"}`, 400, `field "type"`},
		{"event without name", "application/json", `{"site":"example.test","type":"event","url":"https://example.test/a"}`, 400, `missing field "name"`},
		{"relative url", "application/json", `{"site":"example.test","type":"pageview","url":"/a"}`, 400, `field "url"`},
		{"javascript url", "application/json", `{"site":"example.test","type":"pageview","url":"javascript:alert(1)"}`, 400, `field "url"`},
		{"unparsable url", "application/json", `{"site":"example.test","type":"pageview","url":"https://exa mple.test/%zz"}`, 400, `field "url"`},
		{"long url", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/` + strings.Repeat("a", 2100) + `"}`, 400, `field "url": at most`},
		{"bad referrer", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","referrer":"ftp://x"}`, 400, `field "referrer"`},
		{"wrong field type", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","w":"wide"}`, 400, `field "w"`},
		{"negative width", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","w":-1}`, 400, `field "w"`},
		{"lang not a tag", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","lang":"d3-AT"}`, 400, `field "lang"`},
		{"long lang", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","lang":"de-` + strings.Repeat("x", 70) + `"}`, 400, `field "lang": at most`},
		{"nested props", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","props":{"a":{"b":1}}}`, 400, `field "props"`},
		{"long prop value", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","props":{"a":"` + strings.Repeat("v", 600) + `"}}`, 400, `field "props"`},
		{"long name", "application/json", `{"site":"example.test","type":"event","url":"https://example.test/a","name":"` + strings.Repeat("n", 200) + `"}`, 400, `field "name"`},
		{"revenue on a pageview", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","revenue":{"amount":"1","currency":"EUR"}}`, 400, `only a custom event or a click`},
		{"revenue lower-case currency", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":"1","currency":"eur"}}`, 400, `currency: want an ISO 4217`},
		{"revenue without currency", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","props":{"revenue":{"amount":"1"}}}`, 400, `currency: want an ISO 4217`},
		{"revenue negative", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":"-1","currency":"EUR"}}`, 400, `amount: want a decimal`},
		{"revenue five decimals", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":"1.00001","currency":"EUR"}}`, 400, `amount: want a decimal`},
		{"revenue over the bound", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":1000000000.5,"currency":"EUR"}}`, 400, `amount: at most`},
		{"revenue without amount", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"currency":"EUR"}}`, 400, `amount: want a decimal`},
		{"revenue unknown field", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":"1","currency":"EUR","tax":"0.2"}}`, 400, `unknown field "tax"`},
		{"revenue twice", "application/json", `{"site":"example.test","type":"event","name":"Purchase","url":"https://example.test/a","revenue":{"amount":"1","currency":"EUR"},"props":{"revenue":{"amount":"1","currency":"EUR"}}}`, 400, `give it once`},
		{"ms negative", "application/json", `{"site":"example.test","type":"engagement","url":"https://example.test/a","ms":-1}`, 400, `field "ms"`},
		{"scroll negative", "application/json", `{"site":"example.test","type":"engagement","url":"https://example.test/a","ms":2000,"scroll":-1}`, 400, `field "scroll": want 0 to 100`},
		{"scroll not an integer", "application/json", `{"site":"example.test","type":"engagement","url":"https://example.test/a","ms":2000,"scroll":50.5}`, 400, `scroll`},
		{"scroll on a pageview", "application/json", `{"site":"example.test","type":"pageview","url":"https://example.test/a","scroll":40}`, 400, `only an engagement event`},
		{"empty batch", "application/json", `[]`, 400, "a batch holds"},
		{"batch with one bad event", "application/json", `[` + valid + `,{"site":"example.test","type":"pageview"}]`, 400, `missing field "url"`},
		{"batch too large", "application/json", `[` + strings.Repeat(valid+",", collector.MaxBatch) + valid + `]`, 400, "a batch holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, true)
			w := r.post(t, tt.contentType, tt.body)
			if w.Code != tt.code {
				t.Errorf("status = %d, want %d (body %s)", w.Code, tt.code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			if !strings.Contains(w.Body.String(), `"error":`) || !strings.Contains(w.Body.String(), jsonEscape(tt.errContains)) {
				t.Errorf("body = %s, want a JSON error containing %q", w.Body, tt.errContains)
			}
			if got := r.stored(t); len(got) != 0 {
				t.Errorf("bad input stored %d events", len(got))
			}
		})
	}
}

func jsonEscape(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }

func TestPageviewStored(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
	}{
		{"json", "application/json"},
		{"sendBeacon text", "text/plain;charset=UTF-8"},
		{"curl default", "application/x-www-form-urlencoded"},
		{"no content type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, true)
			w := r.post(t, tt.contentType, `{"site":"Example.TEST","type":"pageview","token":"{{token}}","url":"https://example.test/docs/intro?utm_source=x#top","referrer":"https://news.example/item?id=7","w":1280,"lang":"DE-at","unknown":"ignored"}`)
			if w.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
			}
			got := r.stored(t)
			if len(got) != 1 {
				t.Fatalf("stored %d events, want 1", len(got))
			}
			e := got[0]
			checks := []struct{ field, got, want string }{
				{"type", string(e.Type), "pageview"},
				{"host", e.Host, "example.test"},
				{"path", e.Path, "/docs/intro"},
				{"referrer", e.Referrer, "https://news.example/item"},
				{"referrer host", e.ReferrerHost, "news.example"},
				{"language", e.Language, "de"},
				{"time", e.Time.Format(time.RFC3339), r.now.Format(time.RFC3339)},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			if e.ScreenWidth != 1280 || e.SiteID != r.site.ID {
				t.Errorf("width %d site %d, want 1280 and %d", e.ScreenWidth, e.SiteID, r.site.ID)
			}
		})
	}
}

// TestRevenueStored: revenue given as the snippet sends it (inside props)
// and as the field revenue, as a string and as a number; the amount is
// kept exactly, and props keep their other entries only.
func TestRevenueStored(t *testing.T) {
	r := newRig(t, true)
	w := r.post(t, "text/plain", `[{"site":"example.test","type":"event","token":"{{token}}","name":"Purchase","url":"https://example.test/buy","props":{"plan":"pro","revenue":{"amount":"19.90","currency":"EUR"}}},
		{"site":"example.test","type":"click","token":"{{token}}","name":"Buy","url":"https://example.test/buy","revenue":{"amount":0.1,"currency":"USD"}}]`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
	}
	got := map[string]store.Event{}
	for _, e := range r.stored(t) {
		got[e.Name] = e
	}
	if e := got["Purchase"]; e.RevenueAmount != 199000 || e.RevenueCurrency != "EUR" || len(e.Props) != 1 || e.Props[0] != (store.Prop{Key: "plan", Value: "pro"}) {
		t.Errorf("Purchase: revenue %d %q, props %v; want 199000 EUR, plan=pro only", e.RevenueAmount, e.RevenueCurrency, e.Props)
	}
	if e := got["Buy"]; e.RevenueAmount != 1000 || e.RevenueCurrency != "USD" {
		t.Errorf("Buy: revenue %d %q, want 1000 USD", e.RevenueAmount, e.RevenueCurrency)
	}
}

// TestScrollStored: an engagement's scroll depth is kept as sent, 0 and
// none alike as none, over 100 as 100, and other events have none;
// engaged time over a day is a day.
func TestScrollStored(t *testing.T) {
	r := newRig(t, true)
	w := r.post(t, "text/plain", `[{"site":"example.test","type":"pageview","token":"{{token}}","url":"https://example.test/a"},
		{"site":"example.test","type":"engagement","token":"{{token}}","url":"https://example.test/a","ms":4000,"scroll":73},
		{"site":"example.test","type":"engagement","token":"{{token}}","url":"https://example.test/b","ms":1000,"scroll":100},
		{"site":"example.test","type":"engagement","token":"{{token}}","url":"https://example.test/c","ms":2000},
		{"site":"example.test","type":"engagement","token":"{{token}}","url":"https://example.test/d","ms":90000000,"scroll":104}]`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
	}
	got := map[string]uint8{}
	for _, e := range r.stored(t) {
		got[string(e.Type)+" "+e.Path] = e.ScrollDepth
		if e.Path == "/d" && e.EngagedMS != 24*60*60*1000 {
			t.Errorf("engaged time of 25 h kept as %d ms, want a day's", e.EngagedMS)
		}
	}
	// Past the page's end (an overscroll) is 100 %.
	want := map[string]uint8{"pageview /a": 0, "engagement /a": 73, "engagement /b": 100, "engagement /c": 0, "engagement /d": 100}
	if !maps.Equal(got, want) {
		t.Errorf("scroll depth by event = %v, want %v", got, want)
	}
}

func TestBatchStoresEveryEvent(t *testing.T) {
	r := newRig(t, true)
	w := r.post(t, "text/plain", `[{"site":"example.test","type":"pageview","url":"https://example.test/","token":"{{token}}"},
		{"site":"example.test","type":"event","token":"{{token}}","name":"signup","url":"https://example.test/join","props":{"plan":"pro","seats":3,"trial":true}}]`)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202 (body %s)", w.Code, w.Body)
	}
	got := r.stored(t)
	if len(got) != 2 {
		t.Fatalf("stored %d events, want 2", len(got))
	}
	var custom store.Event
	for _, e := range got {
		if e.Type == store.Custom {
			custom = e
		}
	}
	want := []store.Prop{{Key: "plan", Value: "pro"}, {Key: "seats", Value: "3"}, {Key: "trial", Value: "true"}}
	if custom.Name != "signup" || len(custom.Props) != len(want) {
		t.Fatalf("custom event = %+v", custom)
	}
	for i := range want {
		if custom.Props[i] != want[i] {
			t.Errorf("prop %d = %+v, want %+v", i, custom.Props[i], want[i])
		}
	}
}

func TestFullQueueAnswers503(t *testing.T) {
	r := newRig(t, true)
	valid := `{"site":"example.test","type":"pageview","url":"https://example.test/a","token":"{{token}}"}`
	for i := range 100 {
		if w := r.post(t, "application/json", valid); w.Code != http.StatusAccepted {
			t.Fatalf("event %d: status %d, want 202", i, w.Code)
		}
	}
	w := r.post(t, "application/json", valid)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("full queue: status %d Retry-After %q, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if got := r.stored(t); len(got) != 100 {
		t.Errorf("stored %d, want the 100 accepted", len(got))
	}
}
