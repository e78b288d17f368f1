package deploy_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The cluster compose for real (#19, step 6): deploy/cluster/docker-compose.yml
// (2 shards × 2 replicas, a Keeper, two collectors) run by docker-compose
// 1.29 with only the image names and the published ports (127.0.0.1)
// overridden. The test's Keeper is Debian's ZooKeeper on the client port the
// file gives Keeper (FOOTFALL_TEST_ZOOKEEPER_IMAGE, from .ci/images), its
// ClickHouse Debian's 18.16. A single-node stack (docker-compose.yml) comes
// up beside it and is sent the same beacons, so that the reports of both
// can be compared.

// clusterVisitors is how many browsers the test plays; the last two leave
// after one page view (bounces).
const clusterVisitors = 8

// beacon is one page view the test sent and the cluster accepted, to be
// sent again, in the same order, to the single-node stack. Beacons go in
// rounds at least a second apart, each visitor's at most one a round, so
// that their order is in their timestamps (stored to the second) and a
// visit's entry and exit pages are the same in both runs.
type beacon struct {
	round    int
	visitor  int
	path     string
	referrer string
}

// roundGap separates rounds of beacons.
const roundGap = 1100 * time.Millisecond

// visitorUA is visitor v's browser: three kinds, each visitor its own build.
func visitorUA(v int) string {
	switch v % 3 {
	case 0:
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.%d.0 Safari/537.36", v)
	case 1:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.%d", v)
	default:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.%d Safari/605.1.15", v)
	}
}

// grantAs asks for analytics consent as visitor v and returns the token.
func (c client) grantAs(t *testing.T, v int) string {
	t.Helper()
	resp, body := c.do(t, "POST", "/api/consent", "application/json",
		`{"site":"example.com","categories":{"analytics":true,"personalization":false,"marketing":false},"language":"en"}`,
		map[string]string{"User-Agent": visitorUA(v)})
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 || out.Token == "" {
		t.Fatalf("consent of visitor %d: %d %s", v, resp.StatusCode, body)
	}
	return out.Token
}

// send posts b as its visitor with token and returns the status code. The
// beacon carries the visitor's tab session id, as the snippet sends it, so
// that a visit is one whichever collector each of its beacons reaches.
func (c client) send(t *testing.T, token string, b beacon) int {
	t.Helper()
	body := fmt.Sprintf(`{"site":"example.com","type":"pageview","url":"https://example.com%s","referrer":%q,"token":%q,"sid":"tab-%d"}`, b.path, b.referrer, token, b.visitor)
	resp, _ := c.do(t, "POST", "/api/event", "text/plain", body, map[string]string{"User-Agent": visitorUA(b.visitor)})
	return resp.StatusCode
}

// report GETs a reports API path with an analyst token and returns its
// decoded JSON.
func (c client) report(t *testing.T, token, path string) (int, map[string]any) {
	t.Helper()
	resp, body := c.do(t, "GET", path, "", "", map[string]string{"Authorization": "Bearer " + token})
	var out map[string]any
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v %s", path, err, body)
		}
	}
	return resp.StatusCode, out
}

// pageviews is the aggregate report's page views.
func pageviews(r map[string]any) float64 {
	res, _ := r["results"].(map[string]any)
	pv, _ := res["pageviews"].(map[string]any)
	v, _ := pv["value"].(float64)
	return v
}

// clusterReports are the questions both stacks are asked. Periods of 7 days
// ending today hold the whole run even if it crosses the site's midnight;
// durations are left out (they depend on when the beacons were sent).
var clusterReports = []string{
	"/api/v1/stats/aggregate?site=example.com&period=7d&metrics=visitors,visits,pageviews,bounce_rate",
	"/api/v1/stats/breakdown?site=example.com&period=7d&property=page&metrics=visitors,pageviews",
	"/api/v1/stats/breakdown?site=example.com&period=7d&property=entry_page&metrics=visitors,visits,bounce_rate",
	"/api/v1/stats/breakdown?site=example.com&period=7d&property=referrer_host&metrics=visitors,visits,pageviews",
	"/api/v1/stats/breakdown?site=example.com&period=7d&property=browser&metrics=visitors,pageviews",
}

func newClusterStack(t *testing.T) *stack {
	images := needDocker(t, "FOOTFALL_TEST_FOOTFALL_IMAGE", "FOOTFALL_TEST_CLICKHOUSE_IMAGE", "FOOTFALL_TEST_ZOOKEEPER_IMAGE")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	yml := fmt.Appendf(nil, "services:\n  keeper:\n    image: %s\n", images["FOOTFALL_TEST_ZOOKEEPER_IMAGE"])
	for _, node := range []string{"ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"} {
		yml = fmt.Appendf(yml, "  %s:\n    image: %s\n", node, images["FOOTFALL_TEST_CLICKHOUSE_IMAGE"])
	}
	override := filepath.Join(t.TempDir(), "override.yml")
	if err := os.WriteFile(override, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	port1, port2 := freePort(t), freePort(t)
	s := &stack{
		t:       t,
		project: fmt.Sprintf("ffcluster%d", rand.Uint32()),
		// As docs/operations.md runs it: from the repository root.
		dir:   root,
		files: []string{filepath.Join(root, "deploy", "cluster", "docker-compose.yml"), override},
		http:  "127.0.0.1:" + port1,
		http2: "127.0.0.1:" + port2,
	}
	s.env = append(os.Environ(),
		"COMPOSE_PROJECT_NAME="+s.project,
		"FOOTFALL_IMAGE="+images["FOOTFALL_TEST_FOOTFALL_IMAGE"],
		"FOOTFALL_BIND_IP=127.0.0.1",
		"FOOTFALL_HTTP_PORT="+port1,
		"FOOTFALL_HTTP_PORT_2="+port2,
		"CLICKHOUSE_ADMIN_PASSWORD=admin-"+s.project,
		"CLICKHOUSE_COLLECTOR_PASSWORD=collector-"+s.project,
		"CLICKHOUSE_AGGREGATOR_PASSWORD=aggregator-"+s.project,
		"CLICKHOUSE_CLUSTER_PASSWORD=cluster-"+s.project,
		"CLICKHOUSE_NOFILE="+nofile(),
	)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := s.run(nil, "logs", "--no-color", "--tail", "30")
			t.Logf("cluster compose logs:\n%s", out)
		}
		if out, err := s.run(nil, "down", "-v", "--remove-orphans", "-t", "5"); err != nil {
			t.Logf("down: %v\n%s", err, out)
		}
	})
	return s
}

// localCount is a table's row count on one node only, once the node has
// fetched every part its replication queue knows of.
func (s *stack) localCount(node, table string) int {
	s.t.Helper()
	s.queryOn(node, "SYSTEM SYNC REPLICA footfall."+table)
	n, err := strconv.Atoi(s.queryOn(node, "SELECT count() FROM footfall."+table))
	if err != nil {
		s.t.Fatalf("count %s on %s: %v", table, node, err)
	}
	return n
}

// syncReplicas waits until node has fetched every part its replicated
// tables' queues know of.
func (s *stack) syncReplicas(node string) {
	s.t.Helper()
	tables := strings.Fields(s.queryOn(node, "SELECT name FROM system.tables WHERE database = 'footfall' AND engine LIKE 'Replicated%'"))
	if len(tables) == 0 {
		s.t.Fatalf("%s: no replicated tables", node)
	}
	var sql strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&sql, "SYSTEM SYNC REPLICA footfall.%s;\n", t)
	}
	s.must(nil, "exec", "-T", node, "clickhouse-client", "--user", "footfall_admin", "--password", "admin-"+s.project, "-n", "-q", sql.String())
}

// aggregate runs the aggregator's pass once, between waits for every node
// to hold every part: replication is asynchronous and reads go to any
// replica, so a pass right after the inserts could miss the newest events
// (as the hourly pass would not), and a report right after the pass the
// newest rollups.
func (s *stack) aggregate() {
	s.t.Helper()
	nodes := []string{"ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"}
	for _, n := range nodes {
		s.syncReplicas(n)
	}
	s.must(nil, "run", "--rm", "--no-deps", "-T", "aggregator", "aggregate", "-once")
	for _, n := range nodes {
		s.syncReplicas(n)
	}
}

var spooledStoreDown = regexp.MustCompile(`(?m)^footfall_events_spooled_total\{reason="store_unavailable"\} (\d+)$`)

// spooled reads a collector's count of events it spooled because the store
// failed, from its metrics listener (127.0.0.1:9091 inside the container,
// never published) through the image's bash.
func (s *stack) spooled(service string) int {
	s.t.Helper()
	out := s.must(nil, "exec", "-T", service, "bash", "-c",
		`exec 3<>/dev/tcp/127.0.0.1/9091 && printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && cat <&3`)
	m := spooledStoreDown.FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("%s: no spooled-events metric in:\n%s", service, out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestComposeCluster(t *testing.T) {
	started := time.Now()
	c := newClusterStack(t)
	// The single-node stack comes up meanwhile (it is only needed at the
	// end); the tls profile's Caddy is not started.
	single := newStack(t)
	singleUp := make(chan error, 1)
	go func() {
		out, err := single.run(nil, "up", "-d", "--no-build", "collector")
		if err != nil {
			err = fmt.Errorf("%v\n%s", err, out)
		}
		singleUp <- err
	}()
	defer func() { <-singleUp }() // never leave the goroutine behind

	c1 := client{base: "http://" + c.http, http: &http.Client{Timeout: 20 * time.Second}}
	c2 := client{base: "http://" + c.http2, http: &http.Client{Timeout: 20 * time.Second}}
	collectors := []client{c1, c2}
	tokens := make([]string, clusterVisitors)
	var sent []beacon // accepted (202) by the cluster, in order
	// emit sends b through collector k and records it; every beacon the
	// test sends must be accepted.
	emit := func(t *testing.T, k int, b beacon) {
		t.Helper()
		if code := collectors[k].send(t, tokens[b.visitor], b); code != http.StatusAccepted {
			t.Fatalf("beacon %s through collector %d: %d, want 202", b.path, k+1, code)
		}
		sent = append(sent, b)
	}
	stored := func(node string) string {
		return c.queryOn(node, "SELECT count() FROM footfall.events WHERE path LIKE '/cl/%'")
	}
	waitStored := func(t *testing.T, node string) {
		t.Helper()
		want := strconv.Itoa(len(sent))
		waitFor(t, "every accepted beacon in the cluster", time.Minute, func() (bool, string) {
			n := stored(node)
			return n == want, n + " of " + want
		})
	}
	var analyst string
	// run runs a step as a subtest whose t the stacks' helpers fail, and
	// logs how long it took.
	run := func(name string, step func(t *testing.T)) bool {
		start := time.Now()
		ok := t.Run(name, func(t *testing.T) {
			c.t, single.t = t, t
			step(t)
		})
		c.t, single.t = t, t
		t.Logf("%s took %v", name, time.Since(start).Round(time.Second))
		return ok
	}

	aggregated := 0 // beacons in the rollups
	if !run("up", func(t *testing.T) {
		c.must(nil, "up", "-d", "--no-build")
		waitFor(t, "migrate ON CLUSTER done", 3*time.Minute, func() (bool, string) {
			st := inspect(t, c.container("migrate"), "{{.State.Status}} {{.State.ExitCode}}")
			return st == "exited 0", st
		})
		c.waitHealthy("collector")
		c.waitHealthy("collector-2")
		if st := inspect(t, c.container("aggregator"), "{{.State.Status}}"); st != "running" {
			t.Fatalf("aggregator %s", st)
		}
		// Cluster mode for real: each table a Distributed one over a
		// replicated local one, on every node.
		for _, node := range []string{"ch-s1r1", "ch-s1r2", "ch-s2r1", "ch-s2r2"} {
			got := c.queryOn(node, "SELECT engine FROM system.tables WHERE database = 'footfall' AND name IN ('events', 'events_local') ORDER BY name")
			if got != "Distributed\nReplicatedReplacingMergeTree" {
				t.Errorf("%s: events and events_local are %q", node, got)
			}
		}
		// One site row for the configured domain, though two collectors
		// registered it.
		if n := c.queryOn("ch-s1r1", "SELECT count() FROM footfall.sites WHERE domain = 'example.com'"); n != "1" {
			t.Errorf("site rows for example.com: %s, want 1", n)
		}
		// Consent through either collector; each visitor's beacons then go
		// through both (the consent keys are shared through the store).
		for v := range clusterVisitors {
			tokens[v] = collectors[v%2].grantAs(t, v)
		}
		for v := range clusterVisitors {
			ref := "https://news.example/story"
			if v%2 == 1 {
				ref = "https://search.example/?q=footfall"
			}
			emit(t, v%2, beacon{0, v, fmt.Sprintf("/cl/up/%d/a", v), ref})
		}
		time.Sleep(roundGap)
		for v := range clusterVisitors - 2 {
			emit(t, (v+1)%2, beacon{1, v, fmt.Sprintf("/cl/up/%d/b", v), ""})
		}
		if code := c1.send(t, "", beacon{1, 0, "/cl/no-consent", ""}); code != http.StatusNoContent {
			t.Errorf("beacon without consent: %d, want 204", code)
		}
		waitStored(t, "ch-s1r1")
		// Sharded: both shards hold events; replicated: each shard's
		// replicas hold the same, and the shards add up.
		total := 0
		for _, shard := range [][2]string{{"ch-s1r1", "ch-s1r2"}, {"ch-s2r1", "ch-s2r2"}} {
			a, b := c.localCount(shard[0], "events_local"), c.localCount(shard[1], "events_local")
			if a == 0 || a != b {
				t.Errorf("%s holds %d events, %s %d: want the same, not 0", shard[0], a, shard[1], b)
			}
			total += a
		}
		if total != len(sent) {
			t.Errorf("shards hold %d events together, want %d", total, len(sent))
		}
		tok, errOut, err := c.run2(nil, "run", "--rm", "--no-deps", "-T", "migrate", "token", "create", "-role", "analyst", "-name", "ci")
		if analyst = strings.TrimSpace(tok); err != nil || analyst == "" || strings.Contains(analyst, "\n") {
			t.Fatalf("token create: %v %q\n%s", err, analyst, errOut)
		}
		c.aggregate()
		aggregated = len(sent)
	}) {
		return
	}

	if !run("replica down", func(t *testing.T) {
		// ch-s1r1 is the first host of the first collector's, migrate's
		// and the aggregator's DSN: they fail over to the next. Its replica
		// first fetches what it has (a planned stop): replication is
		// asynchronous, and stopped right after the aggregator's inserts
		// ch-s1r1 took with it the rollups ch-s1r2 had not fetched yet (the
		// reports showed 8 of 14 page views until it came back).
		c.syncReplicas("ch-s1r2")
		c.must(nil, "stop", "-t", "10", "ch-s1r1")
		for v := range clusterVisitors - 2 {
			emit(t, v%2, beacon{2, v, fmt.Sprintf("/cl/replica-down/%d", v), ""})
		}
		waitStored(t, "ch-s2r1")
		// Shard 1's rows went to its other replica.
		if n := c.localCount("ch-s1r2", "events_local"); n == 0 {
			t.Errorf("ch-s1r2 holds no events")
		}
		// Reports go on through both collectors: the rollups and the visit
		// rows (a ~ filter on pages reads those), made before the stop,
		// and the realtime count from the raw events, which holds the
		// visitors of the beacons written meanwhile (6 of them, and the
		// other 2 unless "up" ended over five minutes ago).
		for k, col := range collectors {
			for _, path := range []string{clusterReports[0], clusterReports[0] + "&filters=page~/cl/"} {
				code, r := col.report(t, analyst, path)
				if code != 200 || pageviews(r) != float64(aggregated) {
					t.Errorf("%s through collector %d with ch-s1r1 down: %d %v, want 200 and %d page views", path, k+1, code, r, aggregated)
				}
			}
			code, r := col.report(t, analyst, "/api/v1/stats/realtime?site=example.com")
			if n, _ := r["visitors"].(float64); code != 200 || n < clusterVisitors-2 || n > clusterVisitors {
				t.Errorf("realtime through collector %d with ch-s1r1 down: %d %v, want 200 and %d to %d visitors", k+1, code, r, clusterVisitors-2, clusterVisitors)
			}
		}
		c.must(nil, "start", "ch-s1r1")
		c.waitHealthy("ch-s1r1")
		// Back, it catches up with what its replica took meanwhile.
		if a, b := c.localCount("ch-s1r1", "events_local"), c.localCount("ch-s1r2", "events_local"); a != b {
			t.Errorf("after its restart ch-s1r1 holds %d events, ch-s1r2 %d", a, b)
		}
	}) {
		return
	}

	if !run("collector cut off", func(t *testing.T) {
		network := c.project + "_clickhouse"
		id := c.container("collector-2")
		before := len(sent)
		spooledBefore := c.spooled("collector-2")
		if out, err := exec.Command("docker", "network", "disconnect", network, id).CombinedOutput(); err != nil {
			t.Fatalf("network disconnect: %v %s", err, out)
		}
		// Cut off from every ClickHouse node (and Keeper), it still takes
		// beacons on its published port; the first collector stores its own.
		var cut int
		for i, k := range []int{1, 0, 1} {
			if i > 0 {
				time.Sleep(roundGap)
			}
			for v := range clusterVisitors - 2 {
				emit(t, k, beacon{3 + i, v, fmt.Sprintf("/cl/cut/%d/%c", v, 'a'+i), ""})
				if k == 1 {
					cut++
				}
			}
		}
		want := strconv.Itoa(len(sent) - cut)
		waitFor(t, "collector-2 sees the store failing", 3*time.Minute, func() (bool, string) {
			resp, body := c2.do(t, "GET", "/readyz", "", "", nil)
			return resp.StatusCode == 200 && strings.Contains(body, `"store":"failing"`), fmt.Sprint(resp.StatusCode, body)
		})
		waitFor(t, "collector-2 spools what it took", time.Minute, func() (bool, string) {
			n := c.spooled("collector-2") - spooledBefore
			return n == cut, fmt.Sprintf("%d of %d spooled", n, cut)
		})
		if n := stored("ch-s1r1"); n != want {
			t.Errorf("while collector-2 is cut off the cluster holds %s beacons, want %s (the other collector's)", n, want)
		}
		if out, err := exec.Command("docker", "network", "connect", network, id).CombinedOutput(); err != nil {
			t.Fatalf("network connect: %v %s", err, out)
		}
		// Every accepted beacon stored once: the spool's replay after a
		// write that timed out may send a batch twice; FINAL (per shard, a
		// visitor's events on one) shows each once.
		total := strconv.Itoa(len(sent))
		waitFor(t, "every accepted beacon stored once", 2*time.Minute, func() (bool, string) {
			got := c.queryOn("ch-s2r2", "SELECT count(), uniqExact(path) FROM footfall.events FINAL WHERE path LIKE '/cl/%'")
			return got == total+"\t"+total, got + ", want " + total + " (" + strconv.Itoa(len(sent)-before) + " sent in this step)"
		})
		waitFor(t, "collector-2 ready and writing", time.Minute, func() (bool, string) {
			resp, body := c2.do(t, "GET", "/readyz", "", "", nil)
			return resp.StatusCode == 200 && strings.Contains(body, `"store":"writable"`), fmt.Sprint(resp.StatusCode, body)
		})
		dup := c.queryOn("ch-s2r2", "SELECT count() - uniqExact(event_id) FROM footfall.events WHERE path LIKE '/cl/%'")
		t.Logf("%d beacons spooled by collector-2 while cut off, all stored once (%s duplicate rows before merges)", cut, dup)
	}) {
		return
	}

	run("reports equal a single node's", func(t *testing.T) {
		if err := <-singleUp; err != nil {
			singleUp <- nil
			t.Fatalf("single-node stack: %v", err)
		}
		singleUp <- nil
		single.waitHealthy("collector")
		one := client{base: "http://" + single.http, http: &http.Client{Timeout: 20 * time.Second}}
		singleTokens := make([]string, clusterVisitors)
		for v := range clusterVisitors {
			singleTokens[v] = one.grantAs(t, v)
		}
		for i, b := range sent {
			if i > 0 && b.round != sent[i-1].round {
				time.Sleep(roundGap)
			}
			if code := one.send(t, singleTokens[b.visitor], b); code != http.StatusAccepted {
				t.Fatalf("beacon %s to the single node: %d", b.path, code)
			}
		}
		waitFor(t, "every beacon in the single node", time.Minute, func() (bool, string) {
			n := single.query("SELECT count() FROM footfall.events WHERE path LIKE '/cl/%'")
			return n == strconv.Itoa(len(sent)), n
		})
		c.aggregate()
		single.must(nil, "run", "--rm", "--no-deps", "-T", "aggregator", "aggregate", "-once")
		tok, errOut, err := single.run2(nil, "run", "--rm", "--no-deps", "-T", "migrate", "token", "create", "-role", "analyst", "-name", "ci")
		singleAnalyst := strings.TrimSpace(tok)
		if err != nil || singleAnalyst == "" {
			t.Fatalf("token create on the single node: %v\n%s", err, errOut)
		}
		for i, path := range clusterReports {
			wantCode, want := one.report(t, singleAnalyst, path)
			for k, col := range collectors {
				code, got := col.report(t, analyst, path)
				if code != 200 || wantCode != 200 || !reflect.DeepEqual(got, want) {
					t.Errorf("%s\ncluster (collector %d): %d %v\nsingle node: %d %v", path, k+1, code, got, wantCode, want)
				}
			}
			if i == 0 && pageviews(want) != float64(len(sent)) {
				t.Errorf("single node counts %v page views, want %d", pageviews(want), len(sent))
			}
		}
	})
	t.Logf("%d beacons; the cluster test took %v", len(sent), time.Since(started).Round(time.Second))
}
