package mailreport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/aggregator/mailreport/mailtest"
	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/clickhouse"
	"github.com/footfall/footfall/store/clickhouse/chtest"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
)

// now is a Wednesday: the last finished week is Monday 2026-02-23 to
// Sunday 2026-03-01.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

const domain = "shop.example"

func TestMain(m *testing.M) { os.Exit(chtest.Main(m)) }

// testStore is what these tests use of a store.
type testStore interface {
	mailreport.Store
	aggregator.Store
	AddSite(ctx context.Context, domain string) (store.Site, error)
	AddReportUnsubscribe(ctx context.Context, u store.ReportUnsubscribe) error
	InsertEvents(ctx context.Context, events []store.Event) error
}

func openSQLite(t *testing.T) testStore {
	return sqlitetest.Open(t)
}

func openClickHouse(t *testing.T) testStore {
	t.Helper()
	st, err := clickhouse.Open(context.Background(), chtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// seeded is a migrated SQLite file with 16 days of demo traffic of
// shop.example up to now, aggregated.
func seeded(t *testing.T) (testStore, store.Site) {
	t.Helper()
	return seededIn(t, openSQLite(t))
}

// seededIn is st with 16 days of demo traffic of shop.example up to now,
// aggregated.
func seededIn(t *testing.T, st testStore) (testStore, store.Site) {
	t.Helper()
	ctx := context.Background()
	site, err := st.AddSite(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	events, _ := aggregator.DemoData(site.ID, now.Add(-34*time.Hour), 16, 7)
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	if _, err := aggregator.New(aggregator.Options{Store: st, Now: func() time.Time { return now }}).Once(ctx); err != nil {
		t.Fatal(err)
	}
	return st, site
}

func reportConfig(t *testing.T, to ...string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf("sites:\n  - domain: %s\n    timezone: Europe/Berlin\n    reports:\n      - schedule: weekly\n        to: [%s]\n", domain, strings.Join(to, ", "))))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newSender(t *testing.T, st mailreport.Store, cfg *config.Config, smtpAddr string, reg prometheus.Registerer) *mailreport.Sender {
	t.Helper()
	host, port, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s, err := mailreport.New(mailreport.Options{
		Store: st, Config: cfg, PublicURL: "http://stats.example",
		SMTP:     mailreport.SMTP{Host: host, Port: p, TLS: mailreport.TLSNone, From: "footfall@stats.example"},
		Attempts: 3, Backoff: time.Millisecond, Registerer: reg,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// changeText is how a report shows a change the planner computed.
func changeText(c any, cur any) string {
	if c == nil || c == (*float64)(nil) {
		if fmt.Sprint(cur) != "0" {
			return "new"
		}
		return "no change"
	}
	v := *c.(*float64)
	s := strconv.FormatFloat(v, 'f', -1, 64) + "%"
	if v > 0 {
		s = "+" + s
	}
	return s
}

// TestReportCarriesThePlannersFigures delivers a weekly report to a real
// SMTP server (Mailpit), reads it back and compares every key figure, top
// page and top source with what the report planner answers for the week
// and the week before; a second pass and a restarted sender send nothing
// more. On both stores.
func TestReportCarriesThePlannersFigures(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testReportCarriesThePlannersFigures(t, openSQLite(t)) })
	t.Run("clickhouse", func(t *testing.T) { testReportCarriesThePlannersFigures(t, openClickHouse(t)) })
}

func testReportCarriesThePlannersFigures(t *testing.T, backend testStore) {
	ctx := context.Background()
	st, site := seededIn(t, backend)
	mp := mailtest.Start(t)
	cfg := reportConfig(t, "ana@example.com", "bo@example.org")
	reg := prometheus.NewRegistry()
	s := newSender(t, st, cfg, mp.SMTP, reg)
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}

	// The planner's answers, asked as the stats API would: the week with
	// compare=previous_period (the week before, seven days too).
	loc, _ := time.LoadLocation("Europe/Berlin")
	pl := report.New(st, func() time.Time { return now })
	ask := func(kind report.Kind, p map[string]string) *report.Result {
		t.Helper()
		p["period"], p["from"], p["to"] = "custom", "2026-02-23", "2026-03-01"
		q, err := report.ParseQuery(kind, p, site, loc, now)
		if err != nil {
			t.Fatal(err)
		}
		res, err := pl.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	agg := ask(report.Aggregate, map[string]string{"metrics": strings.Join(mailreport.Metrics, ","), "compare": "previous_period"}).JSON()
	var want []string
	labels := map[string]string{"visitors": "Visitors", "visits": "Visits", "pageviews": "Pageviews", "bounce_rate": "Bounce rate", "visit_duration": "Visit duration"}
	unit := map[string]string{"bounce_rate": "%", "visit_duration": "s"}
	for _, m := range mailreport.Metrics {
		r := agg["results"].(map[string]any)[m].(map[string]any)
		want = append(want, fmt.Sprintf("%s: %v%s (previous %v%s, %s)", labels[m], r["value"], unit[m], r["previous"], unit[m], changeText(r["change"], r["value"])))
	}
	if v := agg["results"].(map[string]any)["visitors"].(map[string]any)["value"].(uint64); v < 100 {
		t.Fatalf("the week has %d visitors: too few to test with", v)
	}
	for _, prop := range []string{store.DimPage, store.DimReferrerHost} {
		cur := ask(report.Breakdown, map[string]string{"property": prop, "metrics": "visitors", "limit": strconv.Itoa(mailreport.TopN)})
		if len(cur.Rows) < 3 {
			t.Fatalf("breakdown of %s: %d rows, too few to test with", prop, len(cur.Rows))
		}
		prevQ := map[string]string{"property": prop, "metrics": "visitors", "limit": "1000"}
		prevQ["period"], prevQ["from"], prevQ["to"] = "custom", "2026-02-16", "2026-02-22"
		q, err := report.ParseQuery(report.Breakdown, prevQ, site, loc, now)
		if err != nil {
			t.Fatal(err)
		}
		prev, err := pl.Run(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		before := map[string]uint64{}
		for _, r := range prev.Rows {
			before[r.Key] = r.Values[0].(uint64)
		}
		for _, r := range cur.Rows {
			key := r.Key
			if key == "" {
				key = "(none)"
			}
			v := r.Values[0].(uint64)
			want = append(want, fmt.Sprintf("%s: %d (previous %d, %s)", key, v, before[r.Key], changeText(report.Change(float64(v), float64(before[r.Key])), v)))
		}
	}

	for _, sum := range msgs {
		m := mp.Message(t, sum.ID)
		if len(m.To) != 1 {
			t.Fatalf("message to %v, want one recipient each", m.To)
		}
		if want := "shop.example: weekly report, 2026-02-23 to 2026-03-01"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		for _, line := range want {
			if !strings.Contains(m.Text, "\n"+line+"\n") {
				t.Errorf("text part to %s lacks the line %q:\n%s", m.To[0].Address, line, m.Text)
			}
		}
		if !strings.Contains(m.HTML, "<td>Bounce rate</td>") || !strings.Contains(m.HTML, "Top sources") {
			t.Errorf("HTML part lacks the figures:\n%s", m.HTML)
		}
		unsub := m.Headers["List-Unsubscribe"]
		if len(unsub) != 1 || !strings.HasPrefix(unsub[0], "<http://stats.example/reports/unsubscribe/u1.") {
			t.Errorf("List-Unsubscribe = %q", unsub)
		}
		link := strings.Trim(unsub[0], "<>")
		if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, link) {
			t.Errorf("the bodies lack the unsubscribe link %s", link)
		}
	}
	if got := testutil.ToFloat64(collector(t, reg, "footfall_report_emails_sent_total")); got != 2 {
		t.Errorf("sent counter = %v, want 2", got)
	}

	// Sent once: again, and after a restart (a new sender on the store).
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := newSender(t, st, cfg, mp.SMTP, nil).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(mp.Messages(t)); got != 2 {
		t.Errorf("after two more passes %d messages, want still 2", got)
	}
	sends, err := st.ReportSends(ctx, site.ID, "weekly", "2026-02-23")
	if err != nil || len(sends) != 2 {
		t.Errorf("ReportSends = %v, %v; want the two recipients", sends, err)
	}
}

// collector finds a registered metric by name.
func collector(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: name}, func() float64 { return mf.GetMetric()[0].GetCounter().GetValue() })
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// TestReportRetriedUntilTheServerIsBack sends to an SMTP port nothing
// listens on: every attempt fails, is counted, and nothing is recorded;
// once a server listens there, the next pass delivers.
func TestReportRetriedUntilTheServerIsBack(t *testing.T) {
	ctx := context.Background()
	st, site := seeded(t)
	addr := mailtest.FreeAddr(t)
	reg := prometheus.NewRegistry()
	s := newSender(t, st, reportConfig(t, "ana@example.com"), addr, reg)
	err := s.Run(ctx)
	if err == nil {
		t.Fatal("Run with the SMTP server down: no error")
	}
	if strings.Contains(err.Error(), "ana@example.com") {
		t.Errorf("the error names the recipient: %v", err)
	}
	for name, want := range map[string]float64{
		"footfall_report_emails_sent_total": 0, "footfall_report_emails_failed_total": 1, "footfall_report_email_retries_total": 2,
	} {
		if got := testutil.ToFloat64(collector(t, reg, name)); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if sends, err := st.ReportSends(ctx, site.ID, "weekly", "2026-02-23"); err != nil || len(sends) != 0 {
		t.Errorf("ReportSends = %v, %v; want none", sends, err)
	}

	mp := mailtest.StartOn(t, addr)
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run with the server back: %v", err)
	}
	if got := len(mp.Messages(t)); got != 1 {
		t.Errorf("%d messages delivered, want 1", got)
	}
	if got := testutil.ToFloat64(collector(t, reg, "footfall_report_emails_sent_total")); got != 1 {
		t.Errorf("sent counter = %v, want 1", got)
	}
}

// TestUnsubscribedRecipientGetsNoReport: after an unsubscribe of one
// recipient (as the web handler records it), only the other one gets the
// report.
func TestUnsubscribedRecipientGetsNoReport(t *testing.T) {
	ctx := context.Background()
	st, site := seeded(t)
	mp := mailtest.Start(t)
	if err := st.AddReportUnsubscribe(ctx, store.ReportUnsubscribe{SiteID: site.ID, Recipient: store.RecipientHash("Ana@example.com"), At: now}); err != nil {
		t.Fatal(err)
	}
	if err := newSender(t, st, reportConfig(t, "ana@example.com", "bo@example.org"), mp.SMTP, nil).Run(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages(t)
	if len(msgs) != 1 || msgs[0].To[0].Address != "bo@example.org" {
		t.Errorf("messages %+v, want one to bo@example.org", msgs)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st, _ := seeded(t)
	if err := mailreport.EnsureKey(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	tokens := mailreport.NewTokens(st)
	want := mailreport.Unsubscribe{SiteID: 7, Domain: domain, Recipient: store.RecipientHash("ana@example.com")}
	tok, err := tokens.Sign(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mailreport.NewTokens(st).Verify(ctx, tok); err != nil || got != want {
		t.Errorf("Verify = %+v, %v; want %+v", got, err, want)
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", mailreport.ErrMalformed},
		{"other prefix", "l1." + tok[3:], mailreport.ErrMalformed},
		{"signature changed", tok[:len(tok)-2] + "AA", mailreport.ErrBadSignature},
		{"payload changed", strings.Replace(tok, ".", ".x", 2), mailreport.ErrUnknownKey},
		{"unknown key", "u1.00000000" + tok[11:], mailreport.ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tokens.Verify(ctx, tt.token); !errors.Is(err, tt.want) {
				t.Errorf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
}
