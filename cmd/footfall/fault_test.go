package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite"
)

// faultStore is what the fault tests read back from a store.
type faultStore interface {
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	Events(ctx context.Context, q store.EventQuery) ([]store.Event, error)
	EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error)
	ConsentHistory(ctx context.Context, consentID uuid.UUID) ([]store.ConsentRecord, error)
	Close() error
}

// faultBackends are the two real stores, each a fresh database, with a
// reader that opens it again.
var faultBackends = []struct {
	name string
	dsn  func(t *testing.T) (string, func(t *testing.T) faultStore)
}{
	{"sqlite", func(t *testing.T) (string, func(t *testing.T) faultStore) {
		path := filepath.Join(t.TempDir(), "footfall.db")
		return "sqlite:" + path, func(t *testing.T) faultStore {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}},
	{"clickhouse", func(t *testing.T) (string, func(t *testing.T) faultStore) {
		opts := chtest.NewEmptyDatabase(t)
		return fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database), func(t *testing.T) faultStore {
			st, err := clickhouse.Open(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	}},
}

// startServeProcess runs the real binary with extra flags.
func startServeProcess(t *testing.T, bin, dsn, spoolDir string, args ...string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t), exited: make(chan error, 1), logs: &syncBuffer{}}
	base := append([]string{"serve", "-addr", p.addr, "-store", dsn, "-spool-dir", spoolDir}, metricsFlag(t, p.addr)...)
	p.cmd = exec.Command(bin, append(base, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		err := <-p.exited
		p.exited <- err
	})
	waitReady(t, p.addr, p.exited, p.logs)
	return p
}

// kill ends the process with SIGKILL: no drain, no cleanup.
func (p *process) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Kill()
	err := <-p.exited
	p.exited <- err
}

// postBatches posts n page views of token in batches of ten from a few
// clients, and fails the test unless all are accepted.
func postBatches(t *testing.T, addr, token, prefix string, n int) {
	t.Helper()
	const clients = 4
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: 20 * time.Second}
			for i := c * 10; i < n; i += clients * 10 {
				var b strings.Builder
				b.WriteString("[")
				for j := i; j < min(i+10, n); j++ {
					if j > i {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, `{"site":"example.test","type":"pageview","url":"https://example.test/%s/%d","token":%q}`, prefix, j, token)
				}
				b.WriteString("]")
				resp, err := client.Post("http://"+addr+"/api/event", "text/plain", strings.NewReader(b.String()))
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errs <- fmt.Errorf("post: status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// withdrawAndHangUp sends a withdrawal over a raw connection and closes it
// after wait, without reading the answer: a visitor who navigates away.
func withdrawAndHangUp(t *testing.T, addr string, id uuid.UUID, token string, wait time.Duration) {
	t.Helper()
	body := fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, id, token)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/consent HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body)
	time.Sleep(wait)
	conn.Close()
}

// withdrawn reports whether the ledger holds a withdrawal of id.
func withdrawn(t *testing.T, st faultStore, id uuid.UUID) bool {
	t.Helper()
	recs, err := st.ConsentHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == store.ConsentWithdraw {
			return true
		}
	}
	return false
}

// waitErased waits until the store holds no event of id, and fails the
// test with what is left after bound.
func waitErased(t *testing.T, st faultStore, id uuid.UUID, bound time.Duration, logs *syncBuffer) {
	t.Helper()
	var left int
	for deadline := time.Now().Add(bound); ; time.Sleep(50 * time.Millisecond) {
		events, err := st.EventsByConsent(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if left = len(events); left == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Errorf("%d events of a withdrawn consent still stored %v after the withdrawal\n%s", left, bound, logs.String())
}

// A visitor withdraws and hangs up at once, or after a few milliseconds,
// while the collector is busy: once the ledger holds the withdrawal, every
// stored event of the consent is erased within a bound — also when the
// collector is killed right after the withdrawal and started again.
func TestWithdrawalErasesWhenTheClientHangsUp(t *testing.T) {
	bin := buildFootfall(t)
	for _, tc := range faultBackends {
		t.Run(tc.name, func(t *testing.T) {
			dsn, open := tc.dsn(t)
			if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
				t.Fatalf("site add: %v\n%s", err, out)
			}
			spoolDir := filepath.Join(t.TempDir(), "spool")
			hangUps := []time.Duration{0, 2 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond}
			const kept = 200 // stored events per consent

			// First every visitor's events are stored.
			p := startServeProcess(t, bin, dsn, spoolDir, "-flush-interval", "50ms")
			type visitor struct {
				id    uuid.UUID
				token string
			}
			var visitors []visitor
			for i := range hangUps {
				id, token := decide(t, p, `"analytics":true`)
				visitors = append(visitors, visitor{id, token})
				postBatches(t, p.addr, token, fmt.Sprintf("v%d", i), kept)
			}
			p.stop(t)
			st := open(t)
			for _, v := range visitors {
				if events, err := st.EventsByConsent(context.Background(), v.id); err != nil || len(events) != kept {
					t.Fatalf("before the withdrawals: %d events stored, want %d (%v)", len(events), kept, err)
				}
			}

			// Then a busy collector: a large queue it writes only when asked.
			busy := []string{"-flush-interval", "1h", "-flush-size", "200000", "-queue-size", "200000"}
			p = startServeProcess(t, bin, dsn, spoolDir, busy...)
			_, other := decide(t, p, `"analytics":true`)
			recorded := 0
			for i, wait := range hangUps {
				postBatches(t, p.addr, other, fmt.Sprintf("backlog%d", i), 20000)
				withdrawAndHangUp(t, p.addr, visitors[i].id, visitors[i].token, wait)
				last := i == len(hangUps)-1
				if last {
					// Killed right after: the erasure is the next start's.
					p.kill(t)
					p = startServeProcess(t, bin, dsn, spoolDir, busy...)
				}
				// The handler may not have recorded it yet: give it time.
				time.Sleep(200 * time.Millisecond)
				if !withdrawn(t, st, visitors[i].id) {
					t.Logf("hang-up after %v: the withdrawal was not recorded (the visitor must send it again)", wait)
					continue
				}
				recorded++
				waitErased(t, st, visitors[i].id, 20*time.Second, p.logs)
			}
			if recorded == 0 {
				t.Fatal("no withdrawal was recorded: the test proves nothing")
			}
			t.Logf("%d of %d withdrawals recorded despite the hang-up, each erased in time", recorded, len(hangUps))
		})
	}
}

// ClickHouse hangs (SIGSTOP) while events stream in, and the collector is
// told to stop: -shutdown-timeout bounds the whole shutdown. The write
// under way is cut off and spooled with the rest, the process exits while
// the store is still frozen, and the next start writes every accepted event.
func TestShutdownTimeoutHoldsWhenTheStoreHangs(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	bin := buildFootfall(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
		t.Fatalf("site add: %v\n%s", err, out)
	}
	spoolDir := filepath.Join(t.TempDir(), "spool")
	p := startServeProcess(t, bin, dsn, spoolDir, "-flush-interval", "50ms", "-shutdown-timeout", "1s")
	token := grant(t, p.addr, "example.test")
	s := stream(t, p.addr, token, 2)
	s.waitAccepted(t, 200)

	if err := chtest.Freeze(); err != nil {
		if strings.Contains(err.Error(), "no clickhouse-server started by chtest") {
			s.end()
			t.Skip("needs chtest's own ClickHouse server to freeze it: ", err)
		}
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := chtest.Thaw(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(thaw)
	s.waitAccepted(t, 200) // queued behind a write that hangs
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The store stays frozen eight times the timeout: the process must be
	// gone before it is thawed.
	var exitErr error
	select {
	case exitErr = <-p.exited:
		p.exited <- exitErr
		t.Logf("shutdown with a frozen store took %v (-shutdown-timeout 1s)", time.Since(start).Round(10*time.Millisecond))
	case <-time.After(8 * time.Second):
		thaw()
		exitErr = <-p.exited
		p.exited <- exitErr
		t.Errorf("serve still running 8s after SIGTERM with -shutdown-timeout 1s (exited %v after the store was thawed)", time.Since(start).Round(10*time.Millisecond))
	}
	accepted, status := s.end()
	thaw()
	if exitErr != nil {
		t.Logf("serve exit: %v", exitErr)
	}

	// The next start replays what the shutdown spooled.
	p = startServeProcess(t, bin, dsn, spoolDir, "-flush-interval", "50ms")
	for deadline := time.Now().Add(30 * time.Second); metric(t, p.addr, "footfall_spool_pending_bytes") > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed after 30s:\n%s", p.logs.String())
		}
	}
	p.stop(t)
	t.Logf("statuses %v", status)
	checkStoredOnce(t, opts, accepted)
}

// ClickHouse goes down while events stream in: the collector keeps
// accepting (into its spool), so /readyz keeps it in the load balancer and
// says the store is failing; failed writes are not an ERROR per probe.
func TestReadyThroughAStoreOutage(t *testing.T) {
	opts := chtest.NewEmptyDatabase(t)
	bin := buildFootfall(t)
	dsn := fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database)
	if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
		t.Fatalf("site add: %v\n%s", err, out)
	}
	p := startServeProcess(t, bin, dsn, filepath.Join(t.TempDir(), "spool"), "-flush-interval", "50ms")
	token := grant(t, p.addr, "example.test")
	s := stream(t, p.addr, token, 2)
	s.waitAccepted(t, 100)
	stopClickHouse(t)
	t.Cleanup(func() { chtest.Restart() })
	for deadline := time.Now().Add(20 * time.Second); metric(t, p.addr, "footfall_store_writable") != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("footfall_store_writable still 1 20s after ClickHouse stopped")
		}
	}
	s.waitAccepted(t, 100) // accepted during the outage
	for range 5 {
		if code, body := readyz(t, p.addr); code != http.StatusOK || !strings.Contains(body, `"store":"failing"`) {
			t.Errorf("readyz during the outage = %d %s, want 200 with the store failing", code, body)
		}
	}
	if err := chtest.Restart(); err != nil {
		t.Fatal(err)
	}
	accepted, _ := s.end()
	p.stop(t)
	checkStoredOnce(t, opts, accepted)
}

// kill -9 while events stream in, per store and -durability, then a
// restart that replays the spool: the events accepted (202) and not stored
// are lost, and the raw rows stored twice are duplicates (ClickHouse rows
// read without FINAL; SQLite keeps an event id once). With fsync nothing
// acknowledged is lost, and the replay sends again only what the store had
// not acknowledged, not the whole active segment. The figures are logged:
// docs/ingestion.md quotes them.
func TestKillDuringStream(t *testing.T) {
	bin := buildFootfall(t)
	for _, b := range faultBackends {
		for _, mode := range []string{durabilityMemory, durabilityFsync} {
			t.Run(b.name+"/"+mode, func(t *testing.T) {
				dsn, open := b.dsn(t)
				if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
					t.Fatalf("site add: %v\n%s", err, out)
				}
				spoolDir := filepath.Join(t.TempDir(), "spool")
				args := []string{"-flush-interval", "100ms", "-durability", mode}
				p := startServeProcess(t, bin, dsn, spoolDir, args...)
				token := grant(t, p.addr, "example.test")
				s := stream(t, p.addr, token, 8)
				s.waitAccepted(t, 3000)
				storedBefore := metric(t, p.addr, "footfall_events_stored_total")
				p.kill(t)
				accepted, status := s.end()

				p = startServeProcess(t, bin, dsn, spoolDir, args...)
				for deadline := time.Now().Add(30 * time.Second); metric(t, p.addr, "footfall_spool_pending_bytes") > 0; time.Sleep(50 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("spool not replayed after 30s:\n%s", p.logs.String())
					}
				}
				p.stop(t)

				st := open(t)
				ctx := context.Background()
				site, err := st.SiteByDomain(ctx, "example.test")
				if err != nil {
					t.Fatal(err)
				}
				events, err := st.Events(ctx, store.EventQuery{SiteID: site.ID, From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				stored := map[string]bool{}
				for _, e := range events {
					stored[e.Path] = true
				}
				lost := 0
				for seq := range accepted {
					if !stored[fmt.Sprintf("/seq/%d", seq)] {
						lost++
					}
				}
				dups := rawDuplicates(t, b.name, dsn)
				t.Logf("%s, -durability=%s: %d accepted, %d lost, %d raw duplicate rows after the replay (%d stored before the kill); statuses %v",
					b.name, mode, len(accepted), lost, dups, int(storedBefore), status)
				if mode == durabilityFsync && lost > 0 {
					t.Errorf("-durability=fsync lost %d acknowledged events", lost)
				}
				// Before, the whole active segment came back: every event
				// stored before the kill. Now only the write in flight at
				// the kill may (a fraction of the stream's batches).
				if mode == durabilityFsync && dups > 0 && float64(dups) >= storedBefore/2 {
					t.Errorf("%d raw duplicates after the replay, with %d stored before the kill: the replay sent again what the store had acknowledged", dups, int(storedBefore))
				}
			})
		}
	}
}

// rawDuplicates counts ClickHouse event rows beyond one per event id,
// read without FINAL; SQLite cannot hold any.
func rawDuplicates(t *testing.T, backend, dsn string) int {
	t.Helper()
	if backend != "clickhouse" {
		return 0
	}
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := ch.Open(&ch.Options{Addr: opts.Addr, Auth: ch.Auth{Database: opts.Database, Username: opts.Username}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows, ids uint64
	if err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(event_id) FROM events").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	return int(rows - ids)
}
