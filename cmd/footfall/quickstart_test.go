package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMEQuickStart follows the README's quick start with the real
// binary in an empty folder: serve with no flags (its addresses and
// aggregation interval set through their env twins, the only changes),
// sign in with the admin login it prints, site add, the two curl commands
// as the README writes them, and the visit is in the stats API after the
// in-process aggregation. An event with curl's own user agent is a bot:
// answered 202, visible on /metrics, not counted.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	qs, _, _ := strings.Cut(string(readme), "\n## Documentation")
	_, qs, _ = strings.Cut(qs, "## Quick start")
	for _, step := range []string{"go run ./cmd/footfall serve ", "go run ./cmd/footfall site add example.com\n"} {
		if !strings.Contains(qs, step) {
			t.Fatalf("the quick start no longer says %q: update this test with it", step)
		}
	}
	consentCurl := regexp.MustCompile(`curl -s -d '([^']+)' localhost:8080(/api/consent)\n`).FindStringSubmatch(qs)
	eventCurl := regexp.MustCompile(`curl -i -A '([^']+)' \\\n\s+-d '([^']+)' localhost:8080(/api/event)\n`).FindStringSubmatch(qs)
	if consentCurl == nil || eventCurl == nil {
		t.Fatalf("the quick start's curl commands changed shape: update this test\n%s", qs)
	}

	bin := buildFootfall(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	metricsAddr := metricsFlag(t, addr)[1]
	env := append(os.Environ(), "FOOTFALL_ADDR="+addr, "FOOTFALL_METRICS_ADDR="+metricsAddr, "FOOTFALL_AGGREGATE_EVERY=1s")
	serve := exec.Command(bin, "serve")
	serve.Dir, serve.Env = dir, env
	var logs syncBuffer
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Kill()
		<-exited
	})
	waitReady(t, addr, exited, &logs)
	login := consoleLogin.FindStringSubmatch(logs.String())
	if login == nil {
		t.Fatalf("serve printed no admin login:\n%s", logs.String())
	}
	client := signIn(t, addr, login[1], login[2])

	add := exec.Command(bin, "site", "add", "example.com")
	add.Dir, add.Env = dir, env
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("site add: %v\n%s", err, out)
	}

	// The collector reads new sites at most once a second.
	var decision struct{ Token string }
	for start := time.Now(); decision.Token == ""; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Post("http://"+addr+consentCurl[2], "application/x-www-form-urlencoded", strings.NewReader(consentCurl[1]))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&decision); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && (resp.StatusCode != http.StatusNotFound || time.Since(start) > 30*time.Second) {
			t.Fatalf("the README's consent request: %d", resp.StatusCode)
		}
	}
	event := strings.Replace(eventCurl[2], "v1.…", decision.Token, 1)
	send := func(userAgent string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+eventCurl[3], strings.NewReader(event))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d sends it
		req.Header.Set("User-Agent", userAgent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("the README's event with user agent %q: %d, want 202", userAgent, resp.StatusCode)
		}
	}
	send(eventCurl[1])
	send("curl/8.14.1") // the README's command without -A

	// The visit shows once a pass has aggregated it; the bot never does.
	stats := "http://" + addr + "/api/v1/stats/aggregate?site=example.com&period=day&metrics=visitors,pageviews"
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		var got struct {
			Results map[string]struct{ Value float64 } `json:"results"`
		}
		resp, err := client.Get(stats)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stats: %d, %v", resp.StatusCode, err)
		}
		v, p := got.Results["visitors"].Value, got.Results["pageviews"].Value
		if v == 1 && p == 1 {
			break
		}
		if v > 1 || p > 1 {
			t.Fatalf("stats: %v visitors, %v pageviews; want the README's visit alone, the bot left out", v, p)
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("the README's visit is not in the stats after 2 minutes:\n%s", logs.String())
		}
	}
	if n := metric(t, addr, `footfall_bot_events_total{reason="http_client"}`); n != 1 {
		t.Errorf("bot events on /metrics: %v, want 1", n)
	}
	if err := serve.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("serve exit: %v\n%s", err, logs.String())
	}
	exited <- nil
}
