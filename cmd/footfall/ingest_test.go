package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
)

// streamer posts numbered page views (/seq/N) from several clients until
// stopped, and remembers which numbers were accepted (202).
type streamer struct {
	mu       sync.Mutex
	accepted map[int]bool
	status   map[int]int
	stop     chan struct{}
	wg       sync.WaitGroup
}

func stream(t *testing.T, addr, token string, clients int) *streamer {
	t.Helper()
	s := &streamer{accepted: map[int]bool{}, status: map[int]int{}, stop: make(chan struct{})}
	for c := range clients {
		s.wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-s.stop:
					return
				default:
				}
				seq := i*clients + c
				body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/seq/%d","token":%q}`, seq, token)
				resp, err := client.Post("http://"+addr+"/api/event", "text/plain", strings.NewReader(body))
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				s.mu.Lock()
				s.status[code]++
				if code == http.StatusAccepted {
					s.accepted[seq] = true
				}
				s.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		})
	}
	return s
}

// end stops the clients and returns the accepted numbers and the statuses.
func (s *streamer) end() (map[int]bool, map[int]int) {
	close(s.stop)
	s.wg.Wait()
	return s.accepted, s.status
}

func (s *streamer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// waitAccepted waits until at least n more events were accepted.
func (s *streamer) waitAccepted(t *testing.T, n int) {
	t.Helper()
	want := s.count() + n
	for deadline := time.Now().Add(20 * time.Second); s.count() < want; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events accepted", s.count(), want)
		}
	}
}

// checkStoredOnce reads every event of example.test from ClickHouse and
// checks each accepted number is there exactly once, and nothing else.
func checkStoredOnce(t *testing.T, opts clickhouse.Options, accepted map[int]bool) {
	t.Helper()
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site, err := st.SiteByDomain(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.Events(ctx, store.EventQuery{SiteID: site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int]int{}
	ids := map[string]bool{}
	for _, e := range events {
		seq, err := strconv.Atoi(strings.TrimPrefix(e.Path, "/seq/"))
		if err != nil {
			t.Fatalf("unexpected event path %q", e.Path)
		}
		stored[seq]++
		if ids[e.ID.String()] {
			t.Errorf("event id %s read twice", e.ID)
		}
		ids[e.ID.String()] = true
	}
	var missing, twice, extra int
	for seq := range accepted {
		switch stored[seq] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	for seq := range stored {
		if !accepted[seq] {
			extra++ // stored without a 202: the client timed out, say
		}
	}
	if missing > 0 || twice > 0 {
		t.Errorf("%d events accepted: %d not stored, %d stored more than once (%d stored without a 202)", len(accepted), missing, twice, extra)
	}
	t.Logf("%d events accepted, %d stored, %d stored without a 202", len(accepted), len(events), extra)
}

// ClickHouse stops while events stream in and comes back: every accepted
// event is stored exactly once (spooled while it was down, replayed after).
func TestClickHouseOutageLosesNothing(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn)
	token := grant(t, addr, "example.test")

	s := stream(t, addr, token, 4)
	s.waitAccepted(t, 200)
	stopClickHouse(t)
	s.waitAccepted(t, 500) // all of these go to the spool
	spooled := metric(t, addr, `footfall_events_spooled_total{reason="store_unavailable"}`)
	if err := chtest.Restart(); err != nil {
		t.Fatal(err)
	}
	s.waitAccepted(t, 200)
	accepted, status := s.end()
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errOut)
	}
	if spooled == 0 {
		t.Errorf("no event was spooled while ClickHouse was down; statuses %v", status)
	}
	t.Logf("statuses %v, spooled during the outage %v", status, spooled)
	checkStoredOnce(t, opts, accepted)
}

// stopClickHouse stops chtest's ClickHouse server, or skips the test when
// the tests use a server of their own (FOOTFALL_TEST_CLICKHOUSE).
func stopClickHouse(t *testing.T) {
	t.Helper()
	err := chtest.Stop()
	if err != nil && strings.Contains(err.Error(), "no clickhouse-server started by chtest") {
		t.Skip("needs chtest's own ClickHouse server to stop and restart it: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// metric reads one series from /metrics of the server on addr (on its
// -metrics-addr, see metricsFlag).
func metric(t *testing.T, addr, series string) float64 {
	t.Helper()
	m, ok := metricsAddrs.Load(addr)
	if !ok {
		t.Fatalf("no -metrics-addr recorded for the server on %s", addr)
	}
	resp, err := http.Get("http://" + m.(string) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", series)
	return 0
}

// buildFootfall builds this command into a temporary folder.
func buildFootfall(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "footfall")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// SIGTERM while events stream in: the server stops accepting, writes what
// it holds, and every event it accepted is in the store.
func TestSIGTERMDuringStreamLosesNothing(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	bin := buildFootfall(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
		t.Fatalf("site add: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	var logs syncBuffer
	// Nothing is written before the signal: every accepted event waits in
	// memory, and the shutdown must write them all.
	cmd := exec.Command(bin, append([]string{"serve", "-addr", addr, "-store", dsn, "-spool-dir", filepath.Join(t.TempDir(), "spool"),
		"-flush-interval", "1h", "-flush-size", "1000000", "-queue-size", "1000000"}, metricsFlag(t, addr)...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitReady(t, addr, exited, &logs)
	token := grant(t, addr, "example.test")

	s := stream(t, addr, token, 4)
	s.waitAccepted(t, 300)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case exitErr = <-exited:
		exited <- exitErr
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit within 20s of SIGTERM:\n%s", logs.String())
	}
	accepted, status := s.end()
	if exitErr != nil {
		t.Fatalf("serve exit: %v\n%s", exitErr, logs.String())
	}
	// Requests in flight at the signal still finish; the rest waited.
	_, after, _ := strings.Cut(logs.String(), "queued_events=")
	queued, _ := strconv.Atoi(strings.Fields(after + " ")[0])
	if queued == 0 || queued > len(accepted) {
		t.Errorf("queued at the signal: %d of %d accepted, want most of them:\n%s", queued, len(accepted), logs.String())
	}
	t.Logf("statuses %v, %d events waiting in memory at the signal", status, queued)
	checkStoredOnce(t, opts, accepted)
}

func waitReady(t *testing.T, addr string, exited chan error, logs *syncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("serve exited (%v) before it was ready:\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready after 30s:\n%s", logs.String())
		}
	}
}

// readyz fetches /readyz.
func readyz(t *testing.T, addr string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// A spool folder that cannot be created: serve still runs, says why it is
// not ready, and stores what it accepts.
func TestUnwritableSpoolIsReportedNotFatal(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "not-a-folder")
	if err := os.WriteFile(blocker, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(dir, "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn, "-spool-dir", filepath.Join(blocker, "spool"))
	if code, body := readyz(t, addr); code != http.StatusServiceUnavailable || !strings.Contains(body, `"spool unwritable"`) {
		t.Errorf("readyz = %d %s, want 503 spool unwritable", code, body)
	}
	token := grant(t, addr, "example.test")
	if code := postEvent(t, addr, `{"site":"example.test","type":"pageview","url":"https://example.test/a","token":"`+token+`"}`); code != http.StatusAccepted {
		t.Errorf("post with the spool unusable but the queue free: %d, want 202", code)
	}
	code, errOut := stop()
	if code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "spool unusable") || !strings.Contains(errOut, "not a directory") {
		t.Errorf("the log does not say the spool is unusable and why:\n%s", errOut)
	}
}

// Store down and spool full: events get 503 and /readyz says "spool full";
// when the store returns the spool drains, readiness comes back, and every
// accepted event is stored once.
func TestFullSpoolRefusesThenRecovers(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, stop := startServe(t, "-store", dsn, "-spool-max-size", "1MiB", "-queue-size", "100", "-flush-size", "50")
	token := grant(t, addr, "example.test")
	start := time.Now()
	stopClickHouse(t)
	t.Logf("%s: ClickHouse stopped", time.Since(start))
	s := stream(t, addr, token, 4)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		s.mu.Lock()
		busy := s.status[http.StatusServiceUnavailable]
		s.mu.Unlock()
		if busy > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 503 after 20s with a 1MiB spool and the store down; accepted %d", s.count())
		}
	}
	if code, body := readyz(t, addr); code != http.StatusServiceUnavailable || !strings.Contains(body, `"spool full"`) {
		t.Errorf("readyz = %d %s, want 503 spool full", code, body)
	}
	accepted, status := s.end()
	t.Logf("%s: spool full", time.Since(start))
	if err := chtest.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: ClickHouse restarted", time.Since(start))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, body := readyz(t, addr)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready 20s after the store came back: %d %s", code, body)
		}
	}
	t.Logf("%s: ready again", time.Since(start))
	if code, errOut := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errOut)
	}
	t.Logf("statuses %v", status)
	checkStoredOnce(t, opts, accepted)
}

// Everything operational about ingestion is on /metrics.
func TestMetricsShowIngestion(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "footfall.db")
	if code, _, errOut := footfall(t, nil, "site", "add", "-store", dsn, "example.test"); code != 0 {
		t.Fatalf("site add: exit %d: %s", code, errOut)
	}
	addr, _ := startServe(t, "-store", dsn, "-spool-max-size", "64MiB")
	token := grant(t, addr, "example.test")
	for i := range 3 {
		if code := postEvent(t, addr, fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/%d","token":%q}`, i, token)); code != http.StatusAccepted {
			t.Fatalf("post: %d", code)
		}
	}
	// The writer flushes every 50ms in these tests.
	for deadline := time.Now().Add(10 * time.Second); metric(t, addr, "footfall_events_stored_total") < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("footfall_events_stored_total did not reach 3")
		}
	}
	for _, series := range []string{
		"footfall_events_accepted_total",
		`footfall_events_spooled_total{reason="queue_full"}`,
		`footfall_events_spooled_total{reason="store_unavailable"}`,
		"footfall_events_replayed_total",
		"footfall_queue_depth",
		"footfall_queue_capacity",
		"footfall_store_batch_events_count",
		"footfall_store_write_seconds_count",
		"footfall_store_write_errors_total",
		"footfall_store_writable",
		"footfall_spool_bytes",
		"footfall_spool_pending_bytes",
		"footfall_spool_segments",
		"footfall_spool_corrupt_records_total",
		"footfall_spool_write_errors_total",
		"footfall_events_discarded_total",
	} {
		metric(t, addr, series) // fails the test when missing
	}
	if got := metric(t, addr, "footfall_spool_max_bytes"); got != 64<<20 {
		t.Errorf("footfall_spool_max_bytes = %v, want 64MiB", got)
	}
	if got := metric(t, addr, "footfall_store_writable"); got != 1 {
		t.Errorf("footfall_store_writable = %v, want 1", got)
	}
}
