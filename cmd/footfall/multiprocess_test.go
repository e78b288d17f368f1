package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite"
)

// consentReader is what the two-collector test reads back from a store.
type consentReader interface {
	EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error)
	Close() error
}

// TestTwoCollectorsOneStore runs two footfall serve processes on one store
// (one SQLite file; one ClickHouse database): a consent granted on one
// collector is honoured by the other, a withdrawal sent to one is refused by
// the other within a few -consent-refresh intervals, both derive the same
// visitor key from the shared daily salt, and every event either accepted
// is stored exactly once.
func TestTwoCollectorsOneStore(t *testing.T) {
	bin := buildFootfall(t)
	for _, tc := range []struct {
		name string
		dsn  func(t *testing.T) (string, func(t *testing.T) consentReader)
	}{
		{"sqlite", func(t *testing.T) (string, func(t *testing.T) consentReader) {
			path := filepath.Join(t.TempDir(), "footfall.db")
			return "sqlite:" + path, func(t *testing.T) consentReader {
				st, err := sqlite.Open(context.Background(), path)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
		{"clickhouse", func(t *testing.T) (string, func(t *testing.T) consentReader) {
			opts := chtest.NewEmptyDatabase(t)
			return fmt.Sprintf("clickhouse://%s@%s/%s", opts.Username, opts.Addr[0], opts.Database), func(t *testing.T) consentReader {
				st, err := clickhouse.Open(context.Background(), opts)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn, openStore := tc.dsn(t)
			if out, err := exec.Command(bin, "site", "add", "-store", dsn, "example.test").CombinedOutput(); err != nil {
				t.Fatalf("site add: %v\n%s", err, out)
			}
			const refresh = 200 * time.Millisecond
			a := startProcess(t, bin, dsn, refresh)
			b := startProcess(t, bin, dsn, refresh)

			withdrawn, wToken := decide(t, a, `"analytics":true`)
			kept, kToken := decide(t, b, `"analytics":true`)
			accepted := 0
			for i := range 10 {
				for _, addr := range []string{a.addr, b.addr} {
					for _, token := range []string{wToken, kToken} {
						body := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/p%d","token":%q}`, i, token)
						if code := postEvent(t, addr, body); code != http.StatusAccepted {
							t.Fatalf("post to %s: %d, want 202", addr, code)
						} else if token == kToken {
							accepted++
						}
					}
				}
			}

			// Withdraw on b; a must refuse the token soon after.
			body := fmt.Sprintf(`{"site":"example.test","action":"withdraw","consent_id":%q,"token":%q}`, withdrawn, wToken)
			resp, err := http.Post("http://"+b.addr+"/api/consent", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("withdraw: status %d", resp.StatusCode)
			}
			start := time.Now()
			for {
				post := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/late","token":%q}`, wToken)
				if postEvent(t, a.addr, post) != http.StatusAccepted {
					break
				}
				if time.Since(start) > 25*refresh {
					t.Fatalf("the other collector still accepts a withdrawn consent after %v (-consent-refresh %v)", time.Since(start), refresh)
				}
				time.Sleep(refresh / 10)
			}
			t.Logf("the other collector refused the withdrawn consent after %v (-consent-refresh %v)", time.Since(start).Round(time.Millisecond), refresh)

			// An update narrowing a consent to nothing on b: a stops
			// collecting with the older token too (finding 3 of #16).
			narrowed, nToken := decide(t, a, `"analytics":true,"marketing":true`)
			nEvent := fmt.Sprintf(`{"site":"example.test","type":"pageview","url":"https://example.test/n","token":%q}`, nToken)
			if code := postEvent(t, a.addr, nEvent); code != http.StatusAccepted {
				t.Fatalf("before the update: %d, want 202", code)
			}
			body = fmt.Sprintf(`{"site":"example.test","action":"update","categories":{},"consent_id":%q,"token":%q}`, narrowed, nToken)
			resp, err = http.Post("http://"+b.addr+"/api/consent", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("update: status %d", resp.StatusCode)
			}
			start = time.Now()
			for postEvent(t, a.addr, nEvent) == http.StatusAccepted {
				if time.Since(start) > 25*refresh {
					t.Fatalf("the other collector still collects with a token older than a refusal after %v (-consent-refresh %v)", time.Since(start), refresh)
				}
				time.Sleep(refresh / 10)
			}
			t.Logf("the other collector applied the narrowing after %v (-consent-refresh %v)", time.Since(start).Round(time.Millisecond), refresh)

			a.stop(t)
			b.stop(t)
			st := openStore(t)
			defer st.Close()
			ctx := context.Background()
			left, err := st.EventsByConsent(ctx, withdrawn)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("withdrawal erases the other collector's events", func(t *testing.T) {
				if len(left) == 0 {
					return
				}
				paths := map[string]int{}
				for _, e := range left {
					paths[e.Path]++
				}
				// Each collector erases again once it learns of the
				// withdrawal, after writing out its queue.
				t.Errorf("%d events of the withdrawn consent written by the other collector after the erasure, by path: %v", len(left), paths)
			})
			events, err := st.EventsByConsent(ctx, kept)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != accepted {
				t.Errorf("stored %d events of the kept consent, want the %d accepted by both collectors", len(events), accepted)
			}
			seen := map[uuid.UUID]bool{}
			keys := map[uint64]int{}
			for _, e := range events {
				if seen[e.ID] {
					t.Errorf("event %s stored twice", e.ID)
				}
				seen[e.ID] = true
				keys[e.VisitorKey]++
			}
			if len(keys) != 1 {
				t.Errorf("visitor keys %v: the collectors' salts disagree, want one key for one visitor", keys)
			}
		})
	}
}

type process struct {
	addr   string
	cmd    *exec.Cmd
	exited chan error
	logs   *syncBuffer
}

func startProcess(t *testing.T, bin, dsn string, refresh time.Duration) *process {
	t.Helper()
	return startServeProcess(t, bin, dsn, filepath.Join(t.TempDir(), "spool"), "-flush-interval", "50ms", "-consent-refresh", refresh.String())
}

func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		p.exited <- err
		if err != nil {
			t.Fatalf("serve exit: %v\n%s", err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop:\n%s", p.logs.String())
	}
}

// decide records a decision with the given categories on one collector and
// returns its consent id and token.
func decide(t *testing.T, p *process, categories string) (uuid.UUID, string) {
	t.Helper()
	body := `{"site":"example.test","categories":{` + categories + `},"language":"en"}`
	resp, err := http.Post("http://"+p.addr+"/api/consent", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ConsentID uuid.UUID `json:"consent_id"`
		Token     string    `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Token == "" {
		t.Fatalf("consent: status %d, token %q, %v", resp.StatusCode, out.Token, err)
	}
	return out.ConsentID, out.Token
}
