package share_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
	"github.com/footfall/footfall/web/share"
)

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// testStore is what these tests use of a store.
type testStore interface {
	share.Store
	authtest.Store
	server.Pinger
	AddSite(ctx context.Context, domain string) (store.Site, error)
	InsertEvents(ctx context.Context, events []store.Event) error
	AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error)
}

// The fixture's week: Monday 2026-03-09 to Sunday 2026-03-15, seen on the
// Wednesday after.
var (
	weekFrom = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	weekTo   = weekFrom.AddDate(0, 0, 6)
	start    = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
)

// Visitors of the fixture's Tuesday: 12 see /popular, 3 see /tiny, so
// /tiny's cell is under k = 10 (and so is the "(other)" cell it folds into).
const (
	popularVisitors = 12
	tinyVisitors    = 3
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a seeded store behind the full router.
type env struct {
	st      testStore
	site    store.Site
	other   store.Site
	auth    *authtest.Fixture
	cfg     *config.Config
	clock   *clock
	logs    *syncBuffer
	handler http.Handler
}

func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, openSQLite(t), nil)) })
	t.Run("clickhouse", func(t *testing.T) { fn(t, newEnv(t, openClickHouse(t), nil)) })
}

func openSQLite(t *testing.T) testStore {
	return sqlitetest.Open(t)
}

func openClickHouse(t *testing.T) testStore {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newEnv seeds shop.example with the fixture's visitors and serves it with
// cfg (nil: the defaults).
func newEnv(t *testing.T, st testStore, cfg *config.Config) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{st: st, cfg: cfg, clock: &clock{now: start}, logs: &syncBuffer{}}
	if e.cfg == nil {
		e.cfg = &config.Config{}
	}
	var err error
	if e.site, err = st.AddSite(ctx, "shop.example"); err != nil {
		t.Fatal(err)
	}
	if e.other, err = st.AddSite(ctx, "other.example"); err != nil {
		t.Fatal(err)
	}
	if err := st.InsertEvents(ctx, fixtureEvents(e.site.ID)); err != nil {
		t.Fatal(err)
	}
	e.auth = authtest.New(t, st, auth.Options{})
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sh, err := share.New(share.Options{Store: st, Config: e.cfg, PublicURL: "https://stats.example", Log: log, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = server.New(server.Options{Auth: e.auth.Auth, Share: sh, Store: st, Log: log})
	return e
}

// fixtureEvents are the fixture's pageviews, all with analytics consent.
func fixtureEvents(siteID uint32) []store.Event {
	day := weekFrom.AddDate(0, 0, 1).Add(10 * time.Hour)
	var out []store.Event
	add := func(visitor uint64, path string) {
		at := day.Add(time.Duration(len(out)) * time.Minute)
		out = append(out, store.Event{
			ID: uuid.New(), SiteID: siteID, Type: store.Pageview, Time: at, ReceivedAt: at,
			Host: "shop.example", Path: path, Source: "direct", VisitorKey: visitor, SessionID: visitor,
			Consent: store.ConsentAnalytics, PolicyVersion: "1", Country: "DE", Device: "desktop",
		})
	}
	for v := range uint64(popularVisitors) {
		add(1000+v, "/popular")
	}
	for v := range uint64(tinyVisitors) {
		add(2000+v, "/tiny")
	}
	return out
}

// call sends a request through the router as the client at 192.0.2.1.
func (e *env) call(t *testing.T, method, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:40000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// admin calls an admin route with the fixture's admin token.
func (e *env) admin(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return e.call(t, method, path, body, "Authorization", "Bearer "+e.auth.Token(auth.RoleAdmin))
}

// created is the answer of POST /api/v1/admin/shares.
type created struct {
	Link   share.Link `json:"link"`
	URL    string     `json:"url"`
	Iframe string     `json:"iframe"`
}

// create makes a link and returns it with its path (/share/ffs_…).
func (e *env) create(t *testing.T, body string) (created, string) {
	t.Helper()
	rec := e.admin(t, http.MethodPost, "/api/v1/admin/shares", body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create %s: %d %s", body, rec.Code, rec.Body)
	}
	var c created
	decode(t, rec.Body, &c)
	path, ok := strings.CutPrefix(c.URL, "https://stats.example")
	if !ok || !strings.HasPrefix(path, "/share/ffs_") {
		t.Fatalf("url %q: want https://stats.example/share/ffs_…", c.URL)
	}
	return c, path
}

func decode(t *testing.T, r io.Reader, v any) {
	t.Helper()
	if err := json.NewDecoder(r).Decode(v); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

// wantError checks a JSON {"error": …} answer of code.
func wantError(t *testing.T, what string, rec *httptest.ResponseRecorder, code int) {
	t.Helper()
	var body map[string]string
	if rec.Code != code || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["error"] == "" || len(body) != 1 {
		t.Errorf("%s: got %d %s, want %d and a JSON error", what, rec.Code, rec.Body, code)
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// callFrom is call from another client address.
func (e *env) callFrom(t *testing.T, remote, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}
