package deploy_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The operators' path for real (#19): the repository's docker-compose.yml
// run by Debian's docker-compose 1.29 in the machine's Docker engine, with
// only the image names and the published ports (on 127.0.0.1) overridden.
// The images are made locally by .ci/images (no registry is reachable),
// which prints their names as the FOOTFALL_TEST_*_IMAGE variables read
// here. Without a Docker engine, docker-compose or those images the test
// skips, and fails under FOOTFALL_REQUIRE_DOCKER=1, which CI sets.

const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// stack is one compose project of the test.
type stack struct {
	t       *testing.T
	project string
	files   []string
	env     []string
	dir     string // --project-directory, when not the first file's folder
	http    string // 127.0.0.1:port of the collector
	http2   string // 127.0.0.1:port of the second collector (cluster)
	https   string // 127.0.0.1:port of Caddy (tls profile)
	caddyIP string // Caddy's fixed address on the proxy network
}

// needDocker checks for the engine, docker-compose and the images named by
// the given FOOTFALL_TEST_*_IMAGE variables, and returns those names.
func needDocker(t *testing.T, keys ...string) map[string]string {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("FOOTFALL_REQUIRE_DOCKER") == "1" {
		fail = t.Fatalf
	}
	if _, err := exec.LookPath("docker-compose"); err != nil {
		fail("no docker-compose: %v", err)
	}
	if out, err := exec.Command("docker", "info", "-f", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		fail("no Docker engine: %v %s", err, out)
	}
	images := map[string]string{}
	for _, k := range keys {
		v := os.Getenv(k)
		if v == "" {
			fail("%s not set: run eval \"$(.ci/images)\" first", k)
		}
		if out, err := exec.Command("docker", "image", "inspect", v).CombinedOutput(); err != nil {
			fail("image %s (%s): %v %s", v, k, err, out)
		}
		images[k] = v
	}
	return images
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func newStack(t *testing.T) *stack {
	images := needDocker(t, "FOOTFALL_TEST_FOOTFALL_IMAGE", "FOOTFALL_TEST_CLICKHOUSE_IMAGE", "FOOTFALL_TEST_CADDY_IMAGE")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	yml := fmt.Appendf(nil, "services:\n  clickhouse:\n    image: %s\n  caddy:\n    image: %s\n",
		images["FOOTFALL_TEST_CLICKHOUSE_IMAGE"], images["FOOTFALL_TEST_CADDY_IMAGE"])
	caddyIP := "172.16.255.2"
	if v := os.Getenv("FOOTFALL_TEST_PROXY_SUBNET"); v != "" {
		// Another stack on this engine holds the file's proxy subnet: move
		// it, Caddy's address and the collector's trust together, as the
		// file's comment tells operators to.
		p, err := netip.ParsePrefix(v)
		if err != nil || p.Bits() != 28 || !p.Addr().Is4() {
			t.Fatalf("FOOTFALL_TEST_PROXY_SUBNET=%q: want an IPv4 /28", v)
		}
		a := p.Masked().Addr().As4()
		caddyIP = netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3] + 2}).String()
		pool := netip.PrefixFrom(netip.AddrFrom4([4]byte{a[0], a[1], a[2], a[3] + 8}), 29)
		yml = fmt.Appendf(yml, "    networks:\n      proxy:\n        ipv4_address: %s\nnetworks:\n  proxy:\n    ipam:\n      config:\n        - subnet: %s\n          ip_range: %s\n",
			caddyIP, p.Masked(), pool)
	}
	override := filepath.Join(t.TempDir(), "override.yml")
	if err := os.WriteFile(override, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	httpPort, httpsPort, acmePort := freePort(t), freePort(t), freePort(t)
	s := &stack{
		t:       t,
		caddyIP: caddyIP,
		project: fmt.Sprintf("fftest%d", rand.Uint32()),
		files:   []string{filepath.Join(root, "docker-compose.yml"), override},
		http:    "127.0.0.1:" + httpPort,
		https:   "127.0.0.1:" + httpsPort,
	}
	s.env = append(os.Environ(),
		"COMPOSE_PROJECT_NAME="+s.project,
		"FOOTFALL_IMAGE="+images["FOOTFALL_TEST_FOOTFALL_IMAGE"],
		"FOOTFALL_BIND_IP=127.0.0.1",
		"FOOTFALL_HTTP_PORT="+httpPort,
		"FOOTFALL_HTTPS_PORT="+httpsPort,
		"FOOTFALL_ACME_PORT="+acmePort,
		"FOOTFALL_DOMAIN=localhost",
		"CLICKHOUSE_ADMIN_PASSWORD=admin-"+s.project,
		"CLICKHOUSE_COLLECTOR_PASSWORD=collector-"+s.project,
		"CLICKHOUSE_AGGREGATOR_PASSWORD=aggregator-"+s.project,
		// The host's open-file limit may be below the file's default.
		"CLICKHOUSE_NOFILE="+nofile(),
	)
	if caddyIP != "172.16.255.2" {
		s.env = append(s.env, "FOOTFALL_TRUSTED_PROXIES="+caddyIP+"/32")
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := s.run(nil, "logs", "--no-color", "--tail", "40")
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := s.run(nil, "--profile", "tls", "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			t.Logf("down: %v\n%s", err, out)
		}
	})
	return s
}

// nofile is the hard open-file limit of this host, as a number.
func nofile() string {
	out, err := exec.Command("sh", "-c", "ulimit -Hn").Output()
	n := strings.TrimSpace(string(out))
	if err != nil || n == "unlimited" || n == "" {
		return "262144"
	}
	if v, err := strconv.Atoi(n); err == nil && v > 262144 {
		return "262144"
	}
	return n
}

// run runs docker-compose with the stack's files and environment and
// returns its output, both streams.
func (s *stack) run(stdin io.Reader, args ...string) (string, error) {
	out, errOut, err := s.run2(stdin, args...)
	return out + errOut, err
}

// run2 is run with standard output and error apart.
func (s *stack) run2(stdin io.Reader, args ...string) (string, string, error) {
	var argv []string
	if s.dir != "" {
		argv = append(argv, "--project-directory", s.dir)
	}
	for _, f := range s.files {
		argv = append(argv, "-f", f)
	}
	cmd := exec.Command("docker-compose", append(argv, args...)...)
	cmd.Env = s.env
	cmd.Stdin = stdin
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

func (s *stack) must(stdin io.Reader, args ...string) string {
	s.t.Helper()
	out, err := s.run(stdin, args...)
	if err != nil {
		s.t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// container is the id of a service's container (its first).
func (s *stack) container(service string) string {
	s.t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=com.docker.compose.project="+s.project,
		"--filter", "label=com.docker.compose.service="+service).Output()
	id := strings.Fields(string(out))
	if err != nil || len(id) == 0 {
		s.t.Fatalf("no container of %s: %v", service, err)
	}
	return id[0]
}

func inspect(t *testing.T, id, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", format, id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect %s: %v %s", id, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitFor polls cond every half second until it holds or limit passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
	}
	t.Fatalf("%s: not within %s (last: %s)", what, limit, last)
}

func (s *stack) waitHealthy(service string) {
	s.t.Helper()
	waitFor(s.t, service+" healthy", 3*time.Minute, func() (bool, string) {
		st := inspect(s.t, s.container(service), "{{.State.Health.Status}}")
		return st == "healthy", st
	})
}

// query runs SQL in the ClickHouse container as footfall_admin.
func (s *stack) query(sql string) string {
	s.t.Helper()
	return s.queryOn("clickhouse", sql)
}

// queryOn runs SQL in a ClickHouse service's container as footfall_admin.
func (s *stack) queryOn(service, sql string) string {
	s.t.Helper()
	return strings.TrimSpace(s.must(nil, "exec", "-T", service, "clickhouse-client", "--user", "footfall_admin",
		"--password", "admin-"+s.project, "-q", sql))
}

// client talks to the stack as a browser would.
type client struct {
	base string
	http *http.Client
}

func (c client) do(t *testing.T, method, path, ctype, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", browserUA)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c client) grant(t *testing.T) string {
	t.Helper()
	resp, body := c.do(t, "POST", "/api/consent", "application/json",
		`{"site":"example.com","categories":{"analytics":true,"personalization":false,"marketing":false},"language":"en"}`, nil)
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 || out.Token == "" {
		t.Fatalf("consent: %d %s", resp.StatusCode, body)
	}
	return out.Token
}

func (c client) event(t *testing.T, token, path string) int {
	t.Helper()
	resp, _ := c.do(t, "POST", "/api/event", "text/plain",
		fmt.Sprintf(`{"site":"example.com","type":"pageview","url":"https://example.com%s","token":%q}`, path, token), nil)
	return resp.StatusCode
}

// login signs in through the published port and returns the session cookie.
func (c client) login(t *testing.T, password string) *http.Cookie {
	t.Helper()
	form := url.Values{"email": {"ops@example.com"}, "password": {password}}.Encode()
	resp, body := c.do(t, "POST", "/login", "application/x-www-form-urlencoded", form, map[string]string{"Origin": c.base})
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.HttpOnly {
			return ck
		}
	}
	t.Fatalf("login set no session cookie: %v", resp.Header["Set-Cookie"])
	return nil
}

func TestComposeStack(t *testing.T) {
	s := newStack(t)
	plain := client{base: "http://" + s.http, http: &http.Client{Timeout: 20 * time.Second}}
	const password = "correct horse battery staple 19"

	t.Run("up", func(t *testing.T) {
		s.must(nil, "up", "-d", "--no-build")
		waitFor(t, "migrate done", 3*time.Minute, func() (bool, string) {
			st := inspect(t, s.container("migrate"), "{{.State.Status}} {{.State.ExitCode}}")
			return st == "exited 0", st
		})
		s.waitHealthy("collector")
		if st := inspect(t, s.container("aggregator"), "{{.State.Status}}"); st != "running" {
			t.Fatalf("aggregator %s", st)
		}
		token := plain.grant(t)
		for i := range 3 {
			if code := plain.event(t, token, fmt.Sprintf("/up/%d", i)); code != http.StatusAccepted {
				t.Fatalf("consented event: %d, want 202", code)
			}
		}
		if code := plain.event(t, "", "/up/no-consent"); code != http.StatusNoContent {
			t.Fatalf("unconsented event: %d, want 204", code)
		}
		waitFor(t, "events stored", time.Minute, func() (bool, string) {
			n := s.query("SELECT count() FROM footfall.events FINAL WHERE path LIKE '/up/%'")
			return n == "3", n
		})
		// The aggregator's work, once, as its service runs it.
		s.must(nil, "run", "--rm", "-T", "aggregator", "aggregate", "-once")
		// A user and an analyst token, by the admin tool, then the
		// dashboard login and the reports API through the published port.
		s.must(strings.NewReader(password+"\n"), "run", "--rm", "-T", "migrate", "user", "add", "-email", "ops@example.com", "-role", "admin", "-password-stdin")
		tok, errOut, err := s.run2(nil, "run", "--rm", "-T", "migrate", "token", "create", "-role", "analyst", "-name", "ci")
		if tok = strings.TrimSpace(tok); err != nil || tok == "" || strings.Contains(tok, "\n") {
			t.Fatalf("token create: %v %q\n%s", err, tok, errOut)
		}
		if ck := plain.login(t, password); ck.Secure {
			t.Errorf("session cookie over plain HTTP is Secure")
		}
		resp, body := plain.do(t, "GET", "/api/v1/stats/aggregate?site=example.com&period=day&metrics=pageviews", "", "", map[string]string{"Authorization": "Bearer " + tok})
		var agg struct {
			Results map[string]struct{ Value float64 }
		}
		if err := json.Unmarshal([]byte(body), &agg); err != nil || resp.StatusCode != 200 || agg.Results["pageviews"].Value != 3 {
			t.Errorf("reports API: %d %s, want 3 page views", resp.StatusCode, body)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("hardened", func(t *testing.T) {
		for _, svc := range []string{"migrate", "collector", "aggregator"} {
			id := s.container(svc)
			got := inspect(t, id, "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.CapDrop}} {{.HostConfig.CapAdd}} {{.HostConfig.SecurityOpt}}")
			if got != "true 65532:65532 [ALL] [] [no-new-privileges:true]" {
				t.Errorf("%s: read-only, user, capabilities dropped and added, security options: %s", svc, got)
			}
		}
		// The processes really run so: as uid 65532 with no capability
		// left, and the root filesystem refuses a write (the test image's
		// runtime has touch; distroless has none).
		pid := inspect(t, s.container("collector"), "{{.State.Pid}}")
		status, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatalf("collector's process status: %v", err)
		}
		for _, want := range []string{"Uid:\t65532\t65532\t65532\t65532\n", "CapPrm:\t0000000000000000\n", "CapEff:\t0000000000000000\n"} {
			if !bytes.Contains(status, []byte(want)) {
				t.Errorf("collector's process status lacks %q:\n%s", want, status)
			}
		}
		if out, err := s.run(nil, "exec", "-T", "collector", "touch", "/usr/local/bin/x"); err == nil || !strings.Contains(out, "Read-only file system") {
			t.Errorf("a write to the collector's root filesystem: %v %s, want Read-only file system", err, out)
		}
		// A wrong password is refused too.
		if out, err := s.run(nil, "exec", "-T", "clickhouse", "clickhouse-client", "--user", "footfall_collector", "--password", "wrong", "-q", "SELECT 1"); err == nil {
			t.Errorf("ClickHouse let footfall_collector in with a wrong password: %s", out)
		}
		// No default user: only the three named ones get in.
		out, err := s.run(nil, "exec", "-T", "clickhouse", "clickhouse-client", "-q", "SELECT 1")
		if err == nil {
			t.Errorf("ClickHouse's password-less default user got in: %s", out)
		}
	})

	t.Run("restart and outage", func(t *testing.T) {
		token := plain.grant(t)
		var accepted sync.Map
		var stop atomic.Bool
		var wg sync.WaitGroup
		var next atomic.Int64
		streamer := client{base: plain.base, http: &http.Client{Timeout: 5 * time.Second}}
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					i := next.Add(1)
					path := fmt.Sprintf("/stream/%d", i)
					body := fmt.Sprintf(`{"site":"example.com","type":"pageview","url":"https://example.com%s","token":%q}`, path, token)
					req, _ := http.NewRequest("POST", streamer.base+"/api/event", strings.NewReader(body))
					req.Header.Set("User-Agent", browserUA)
					resp, err := streamer.http.Do(req)
					if err != nil {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusAccepted {
						accepted.Store(path, true)
					}
					time.Sleep(5 * time.Millisecond)
				}
			})
		}
		count := func() int {
			n := 0
			accepted.Range(func(any, any) bool { n++; return true })
			return n
		}
		waitFor(t, "events accepted", time.Minute, func() (bool, string) { return count() > 100, strconv.Itoa(count()) })
		s.must(nil, "restart", "-t", "30", "collector")
		s.waitHealthy("collector")
		before := count()
		s.must(nil, "stop", "clickhouse")
		// While the store is down the collector keeps accepting (into its
		// spool) and stays ready; /readyz names the store's state.
		waitFor(t, "collector sees the outage", time.Minute, func() (bool, string) {
			resp, body := plain.do(t, "GET", "/readyz", "", "", nil)
			return resp.StatusCode == 200 && strings.Contains(body, `"store":"failing"`), fmt.Sprint(resp.StatusCode, body)
		})
		time.Sleep(20 * time.Second)
		during := count() - before
		s.must(nil, "start", "clickhouse")
		s.waitHealthy("clickhouse")
		time.Sleep(2 * time.Second)
		stop.Store(true)
		wg.Wait()
		if during == 0 {
			t.Errorf("nothing was accepted while ClickHouse was down")
		}
		want := count()
		waitFor(t, "every accepted event stored once", 2*time.Minute, func() (bool, string) {
			got := s.query("SELECT count(), uniqExact(path) FROM footfall.events FINAL WHERE path LIKE '/stream/%'")
			raw := s.query("SELECT count() - uniqExact(event_id) FROM footfall.events WHERE path LIKE '/stream/%'")
			return got == fmt.Sprintf("%d\t%d", want, want), got + " duplicates before merge " + raw
		})
		t.Logf("accepted %d events, %d of them while ClickHouse was down; all stored once", want, during)
	})

	t.Run("tls", func(t *testing.T) {
		s.must(nil, "--profile", "tls", "up", "-d", "--no-build")
		// https://localhost:PORT, always dialled on the published
		// 127.0.0.1 port: Caddy serves the site named localhost.
		_, port, _ := net.SplitHostPort(s.https)
		secure := client{base: "https://localhost:" + port, http: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, s.https)
			},
			// Caddy's own internal CA for localhost: trusted by nobody here.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		}}}
		waitFor(t, "Caddy serves", 2*time.Minute, func() (bool, string) {
			resp, err := secure.http.Get(secure.base + "/healthz")
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode == 200, resp.Status
		})
		token := secure.grant(t)
		if code := secure.event(t, token, "/tls/probe"); code != http.StatusAccepted {
			t.Fatalf("event over HTTPS: %d", code)
		}
		// The IP Footfall stores is the one Caddy saw (the host's side of
		// the proxy network), from X-Forwarded-For; not Caddy's own.
		gateway := inspect(t, s.container("caddy"), `{{range $k, $v := .NetworkSettings.Networks}}{{if eq $k "`+s.project+`_proxy"}}{{$v.Gateway}}{{end}}{{end}}`)
		waitFor(t, "the HTTPS event stored with the client's IP", time.Minute, func() (bool, string) {
			ip := s.query("SELECT ip FROM footfall.events FINAL WHERE path = '/tls/probe'")
			return ip != "" && ip == gateway && ip != s.caddyIP, "ip " + ip + ", gateway " + gateway
		})
		if ck := secure.login(t, password); !ck.Secure {
			t.Errorf("session cookie over HTTPS is not Secure")
		}
		if resp, _ := secure.do(t, "GET", "/metrics", "", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics through Caddy: %d, want 404", resp.StatusCode)
		}
	})

	t.Run("down and up", func(t *testing.T) {
		token := plain.grant(t)
		stored := s.query("SELECT count() FROM footfall.events FINAL")
		s.must(nil, "--profile", "tls", "down", "-t", "30")
		s.must(nil, "up", "-d", "--no-build")
		s.waitHealthy("collector")
		if got := s.query("SELECT count() FROM footfall.events FINAL"); got != stored {
			t.Errorf("events after down and up: %s, want %s", got, stored)
		}
		// The consent keys survived: a token from before still counts.
		if code := plain.event(t, token, "/after/restart"); code != http.StatusAccepted {
			t.Errorf("event with a token from before down: %d, want 202", code)
		}
		plain.login(t, password) // the user survived
		s.must(nil, "down", "-v", "-t", "30")
		out, _ := exec.Command("docker", "volume", "ls", "-q", "--filter", "label=com.docker.compose.project="+s.project).Output()
		if v := strings.TrimSpace(string(out)); v != "" {
			t.Errorf("volumes left after down -v: %s", v)
		}
	})
}
