package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/mailreport/mailtest"
	"github.com/footfall/footfall/store/sqlite"
)

// demoStore writes 16 days of demo data up to now into a new SQLite file
// at path and returns its -store value.
func demoStore(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	site, err := st.AddSite(ctx, aggregator.DemoDomain)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := aggregator.DemoData(site.ID, time.Now(), 16, 1)
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	return "sqlite:" + path
}

// TestAggregateSendsEmailReports: footfall aggregate -every sends the
// reports after its pass, with unsubscribe links on -public-url, and shows
// its counters on -metrics-addr.
func TestAggregateSendsEmailReports(t *testing.T) {
	mp := mailtest.Start(t)
	host, port, _ := net.SplitHostPort(mp.SMTP)
	dir := t.TempDir()
	db := demoStore(t, filepath.Join(dir, "footfall.db"))
	cfg := filepath.Join(dir, "footfall.yaml")
	if err := os.WriteFile(cfg, []byte("sites:\n  - domain: "+aggregator.DemoDomain+"\n    reports:\n      - schedule: monthly\n        to: [ana@example.com]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	metricsAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"aggregate", "-store", db, "-config", cfg, "-every", "1h", "-metrics-addr", metricsAddr,
			"-public-url", "https://stats.example", "-smtp-host", host, "-smtp-port", port, "-smtp-tls", "none", "-smtp-from", "footfall@stats.example"},
			func(string) string { return "" }, &stderr, &stderr)
	}()
	var msgs []mailtest.Summary
	for len(msgs) == 0 {
		select {
		case code := <-done:
			t.Fatalf("aggregate exited %d:\n%s", code, stderr.String())
		default:
		}
		time.Sleep(100 * time.Millisecond)
		msgs = mp.Messages(t)
	}
	m := mp.Message(t, msgs[0].ID)
	if unsub := m.Headers["List-Unsubscribe"]; len(unsub) != 1 || !strings.HasPrefix(unsub[0], "<https://stats.example/reports/unsubscribe/u1.") {
		t.Errorf("List-Unsubscribe = %q, want a link on -public-url", unsub)
	}
	// The counter moves after the server accepted the message; the
	// message shows in Mailpit at about the same time.
	for {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "\nfootfall_report_emails_sent_total 1\n") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("aggregate exited %d:\n%s", code, stderr.String())
	}
}

// TestEmailReportsEndToEnd runs serve on 16 days of demo data with reports
// configured and a real SMTP server (Mailpit): each recipient gets the
// last week's report; its unsubscribe link, followed on serve, records the
// unsubscribe; after a restart with monthly reports added, the week is not
// sent again and the monthly report goes only to the recipient who did
// not unsubscribe.
func TestEmailReportsEndToEnd(t *testing.T) {
	mp := mailtest.Start(t)
	host, port, _ := net.SplitHostPort(mp.SMTP)
	dir := t.TempDir()
	// The data is written before serve starts (serve -demo would generate
	// two months, longer than startServe waits on a busy machine).
	db := demoStore(t, filepath.Join(dir, "footfall.db"))
	writeConfig := func(schedules ...string) string {
		t.Helper()
		yaml := "sites:\n  - domain: " + aggregator.DemoDomain + "\n    reports:\n"
		for _, s := range schedules {
			yaml += "      - schedule: " + s + "\n        to: [ana@example.com, bo@example.org]\n"
		}
		path := filepath.Join(dir, "footfall-"+strings.Join(schedules, "-")+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	serveArgs := func(cfg string) []string {
		return []string{"-store", db, "-config", cfg, "-aggregate-every", "1s",
			"-smtp-host", host, "-smtp-port", port, "-smtp-tls", "none", "-smtp-from", "footfall@stats.example"}
	}
	// waitFor polls Mailpit until it holds n messages; the test's own
	// timeout bounds it.
	waitFor := func(n int) []mailtest.Summary {
		t.Helper()
		for {
			msgs := mp.Messages(t)
			if len(msgs) >= n {
				return msgs
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	addr, stop := startServe(t, serveArgs(writeConfig("weekly"))...)
	msgs := waitFor(2)
	var link string
	for _, s := range msgs {
		m := mp.Message(t, s.ID)
		if !strings.HasPrefix(m.Subject, aggregator.DemoDomain+": weekly report, ") || !strings.Contains(m.Text, "Visitors: ") {
			t.Errorf("message %q:\n%s", m.Subject, m.Text)
		}
		if m.To[0].Address == "ana@example.com" {
			link = strings.Trim(m.Headers["List-Unsubscribe"][0], "<>")
		}
	}
	if !strings.HasPrefix(link, "http://"+addr+"/reports/unsubscribe/") {
		t.Fatalf("unsubscribe link %q, want one to serve on %s", link, addr)
	}
	if got := metric(t, addr, "footfall_report_emails_sent_total"); got != 2 {
		t.Errorf("footfall_report_emails_sent_total = %v, want 2", got)
	}

	// The link shows a page (a scanner following it changes nothing), and
	// its button's POST unsubscribes.
	for _, step := range []struct {
		method, want string
	}{{http.MethodGet, `<form method="post">`}, {http.MethodPost, "You will receive no more e-mail reports of " + aggregator.DemoDomain}} {
		req, _ := http.NewRequest(step.method, link, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), step.want) {
			t.Errorf("%s %s: %d %s, want 200 with %q", step.method, link, resp.StatusCode, body, step.want)
		}
	}
	resp, err := http.Post(link+"x", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST of a changed link: %d, want 404", resp.StatusCode)
	}
	if code, out := stop(); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, out)
	}

	// A restart with monthly reports too: the week is not sent again, and
	// ana, who unsubscribed, gets nothing more. bo's monthly report comes
	// after ana's would have in the same pass (recipients go in order).
	_, stop = startServe(t, serveArgs(writeConfig("weekly", "monthly"))...)
	waitFor(3)
	code, out := stop()
	if code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, out)
	}
	if strings.Contains(out, "ana@example.com") || strings.Contains(out, "bo@example.org") {
		t.Errorf("serve's log names a recipient:\n%s", out)
	}
	msgs = mp.Messages(t)
	var got []string
	for _, s := range msgs {
		got = append(got, fmt.Sprintf("%s %s", s.To[0].Address, strings.Fields(s.Subject)[1]))
	}
	if len(msgs) != 3 || !strings.Contains(strings.Join(got, ","), "bo@example.org monthly") {
		t.Errorf("messages %q, want the two weekly ones and bo's monthly one", got)
	}
}

func TestEmailReportSettingsAreChecked(t *testing.T) {
	code, _, errOut := footfall(t, map[string]string{"FOOTFALL_SMTP_TLS": "ssl"}, "aggregate", "-every", "1m", "-smtp-host", "mail.example", "-smtp-port", "0",
		"-smtp-from", "Footfall <f@example.com>", "-smtp-password", "x", "-report-attempts", "0", "-public-url", "ftp://x")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"-smtp-port", `-smtp-tls: want starttls, opportunistic, tls, none, got "ssl"`, "-smtp-from", "-smtp-password: needs -smtp-user", "-report-attempts", "-public-url", "-smtp-host: needs -config"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not mention %s:\n%s", want, errOut)
		}
	}
}
