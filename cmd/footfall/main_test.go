package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
)

// footfall runs one command line in-process and returns its exit status
// and output.
func footfall(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestEnvTwinSetsEveryFlag(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	code, out, errOut := footfall(t, map[string]string{"FOOTFALL_STORE": "sqlite:" + db}, "site", "add", "env.example")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "added site env.example") {
		t.Errorf("stdout = %q", out)
	}
	// The flag wins over its env twin.
	other := filepath.Join(t.TempDir(), "y.db")
	if code, _, errOut := footfall(t, map[string]string{"FOOTFALL_STORE": "sqlite:" + db}, "site", "add", "-store", "sqlite:"+other, "env.example"); code != 0 {
		t.Fatalf("flag over env: exit %d: %s", code, errOut)
	}
}

func TestInvalidSettingsAreAllReported(t *testing.T) {
	env := map[string]string{"FOOTFALL_FLUSH_INTERVAL": "soon", "FOOTFALL_LOG_LEVEL": "loud"}
	code, _, errOut := footfall(t, env, "serve", "-addr", "nowhere", "-store", "postgres://x", "-flush-size", "0")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"FOOTFALL_FLUSH_INTERVAL", "-log-level", "-addr", "-store", "-flush-size"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not mention %s:\n%s", want, errOut)
		}
	}
}

func TestHelpListsEveryFlagWithItsEnvTwin(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, out, _ := footfall(t, nil, append([]string{"help"}, strings.Fields(c.name)...)...)
			if code != 0 {
				t.Fatalf("help exit %d", code)
			}
			if !strings.Contains(out, "Usage: footfall "+c.name) {
				t.Errorf("help does not start with the usage line:\n%s", out)
			}
			fresh, _ := find(commands(), strings.Fields(c.name))
			fresh.flags.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(out, "-"+f.Name+" ") || !strings.Contains(out, envName(f.Name)) {
					t.Errorf("help lacks -%s or %s", f.Name, envName(f.Name))
				}
			})
			code, out2, _ := footfall(t, nil, append(strings.Fields(c.name), "-h")...)
			if code != 0 || out2 != out {
				t.Errorf("%s -h differs from help %s (exit %d)", c.name, c.name, code)
			}
		})
	}
	if code, _, _ := footfall(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := footfall(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "footfall ") {
		t.Errorf("version: exit %d, out %q", code, out)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// metricsAddrs maps the -addr of a server a test started to its
// -metrics-addr, for metric.
var metricsAddrs sync.Map

// metricsFlag picks a free -metrics-addr for a server on addr (so that
// servers running at once do not share the default) and remembers it.
func metricsFlag(t *testing.T, addr string) []string {
	t.Helper()
	m := freeAddr(t)
	metricsAddrs.Store(addr, m)
	return []string{"-metrics-addr", m}
}

// startServe runs footfall serve until the test ends and returns its address
// and a stop function that waits for a clean exit.
func startServe(t *testing.T, args ...string) (string, func() (int, string)) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	// The spool defaults to ./footfall-data/spool with ClickHouse: keep it
	// out of the source tree (a -spool-dir in args comes later and wins).
	base := append([]string{"serve", "-addr", addr, "-flush-interval", "50ms", "-spool-dir", filepath.Join(t.TempDir(), "spool")}, metricsFlag(t, addr)...)
	go func() {
		done <- run(ctx, append(base, args...), func(string) string { return "" }, &stderr, &stderr)
	}()
	var once sync.Once
	var code int
	stop := func() (int, string) {
		once.Do(func() { cancel(); code = <-done })
		return code, stderr.String()
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(2 * time.Minute); ; {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			return addr, stop
		}
		select {
		case c := <-done:
			done <- c // for stop, which the cleanup calls
			t.Fatalf("serve exited with %d before listening:\n%s", c, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not listen: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// grant records an accept-all decision for site and returns its token.
func grant(t *testing.T, addr, site string) string {
	t.Helper()
	body := `{"site":"` + site + `","categories":{"analytics":true,"personalization":true,"marketing":true},"language":"en"}`
	resp, err := http.Post("http://"+addr+"/api/consent", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		t.Fatalf("consent: status %d, token %q, %v", resp.StatusCode, out.Token, err)
	}
	return out.Token
}

func postEvent(t *testing.T, addr, body string) int {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/api/event", "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The quick start: site add, serve on the embedded store, post, and the
// event is in the store once serve has stopped.
func TestServeStoresEventOnSQLite(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn)
	token := grant(t, addr, "example.test")
	if code := postEvent(t, addr, `{"site":"example.test","type":"pageview","url":"https://example.test/no-consent"}`); code != http.StatusNoContent {
		t.Errorf("post without a token: %d, want 204", code)
	}
	const n = 5
	for i := range n {
		body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/p%d","token":%q}`, i, token)
		if code := postEvent(t, addr, body); code != http.StatusAccepted {
			t.Fatalf("post: %d, want 202", code)
		}
	}
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errOut)
	}
	st, err := sqlite.Open(context.Background(), strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site, err := st.SiteByDomain(context.Background(), "example.test")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.PageviewCounts(context.Background(), store.CountQuery{SiteID: site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour), By: store.ByDay})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Pageviews != n {
		t.Errorf("stored counts %+v, want %d pageviews today", counts, n)
	}
}

func TestServeWithoutFlagsUsesEmbeddedStore(t *testing.T) {
	t.Chdir(t.TempDir())
	addr, stop := startServe(t)
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	stop()
	if _, err := sqlite.Open(context.Background(), "footfall-data/footfall.db"); err != nil {
		t.Errorf("no embedded store in ./footfall-data: %v", err)
	}
}

func TestServeReportsUnreachableClickHouse(t *testing.T) {
	addr := freeAddr(t)
	code, _, errOut := footfall(t, nil, "serve", "-addr", freeAddr(t), "-store", "clickhouse://"+addr+"/footfall", "-store-wait", "600ms")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{addr, "connection refused", "store unreachable"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
		t.Errorf("stderr holds a stack trace:\n%s", errOut)
	}
}

// TestMetricsListener: /metrics is served on -metrics-addr only, never on
// -addr (which a reverse proxy publishes).
func TestMetricsListener(t *testing.T) {
	addr, stop := startServe(t, "-store", "sqlite:"+filepath.Join(t.TempDir(), "footfall.db"))
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on -addr: %d, want 404", resp.StatusCode)
	}
	if v := metric(t, addr, "footfall_store_writable"); v != 1 {
		t.Errorf("footfall_store_writable on -metrics-addr = %v, want 1", v)
	}
	if code, logs := stop(); code != 0 {
		t.Errorf("serve exit %d:\n%s", code, logs)
	}
	// A taken -metrics-addr fails the start, clearly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := footfall(t, nil, "serve", "-addr", freeAddr(t), "-metrics-addr", ln.Addr().String(), "-store", "sqlite:"+filepath.Join(t.TempDir(), "footfall.db"))
	if code == 0 || !strings.Contains(errOut, "-metrics-addr") {
		t.Errorf("serve with a taken -metrics-addr: exit %d %s", code, errOut)
	}
}

// Flags are accepted before, between and after positional arguments, for
// every command (they share command.parse); after "--" all is positional.
func TestFlagsAfterPositionalArguments(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{
		{"site", "add", "after.example", "-store", "sqlite:" + db},
		{"site", "add", "-log-level", "warn", "between.example", "-store=sqlite:" + db},
	} {
		if code, out, errOut := footfall(t, nil, args...); code != 0 || !strings.Contains(out, "added site") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	code, out, errOut := footfall(t, nil, "site", "list", "-store", "sqlite:"+db)
	if code != 0 || !strings.Contains(out, "after.example") || !strings.Contains(out, "between.example") {
		t.Errorf("site list: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Two positional arguments are still refused, wherever the flags are.
	if code, _, errOut := footfall(t, nil, "site", "add", "a.example", "-store", "sqlite:"+db, "b.example"); code != 2 || !strings.Contains(errOut, "got 2") {
		t.Errorf("two domains: exit %d, stderr %q; want 2 and a count", code, errOut)
	}
	// After "--", "-store" is an argument, not a flag.
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", "sqlite:"+db, "--", "-store"); code == 0 {
		t.Errorf("site add -- -store: exit 0, want a refusal (stderr %q)", errOut)
	}
}

// footfall help lines the summaries of one- and two-word commands up in
// one column.
func TestHelpAlignsCommands(t *testing.T) {
	_, out, _ := footfall(t, nil, "help")
	cols := map[int][]string{}
	for _, c := range commands() {
		for line := range strings.Lines(out) {
			if rest, ok := strings.CutPrefix(line, "  "+c.name+" "); ok {
				col := len(line) - len(strings.TrimLeft(rest, " "))
				cols[col] = append(cols[col], c.name)
			}
		}
	}
	if len(cols) != 1 {
		t.Errorf("summaries start in %d columns, want 1: %v\n%s", len(cols), cols, out)
	}
}
