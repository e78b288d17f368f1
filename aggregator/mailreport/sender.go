package mailreport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wneessen/go-mail"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// Store is what the sender reads and records; both backends satisfy it.
type Store interface {
	report.Store
	KeyStore
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	AddReportSend(ctx context.Context, r store.ReportSend) error
	ReportSends(ctx context.Context, siteID uint32, schedule, from string) ([]store.ReportSend, error)
	ReportUnsubscribes(ctx context.Context, siteID uint32) ([]store.ReportUnsubscribe, error)
}

// TLS modes of SMTP.
const (
	TLSStartTLS      = "starttls"      // STARTTLS, required
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSImplicit      = "tls"           // TLS from the first byte (port 465)
	TLSNone          = "none"          // plain text
)

// TLSModes lists the TLS modes, the default first.
var TLSModes = []string{TLSStartTLS, TLSOpportunistic, TLSImplicit, TLSNone}

// SMTP is how reports leave: the server, its TLS mode and credentials, and
// the sender's address.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // one of TLSModes
	Username string // with Password: authenticate (the mechanisms the server offers)
	Password string
	From     string // the From address
	Timeout  time.Duration
	// RootCAs, if set, are the certificate authorities the server's
	// certificate is checked against instead of the system's.
	RootCAs *x509.CertPool
}

// Options configure a Sender.
type Options struct {
	Store  Store
	Config *config.Config // the sites, their zones and reports
	SMTP   SMTP
	// PublicURL is the base of the unsubscribe links: where serve is
	// reached (serve's -public-url).
	PublicURL string
	// Attempts is how often one message is tried within a pass (default
	// 3); Backoff the wait after the first failure (default 30s), doubled
	// after each.
	Attempts int
	Backoff  time.Duration
	// Registerer, if set, gets the sent, failed and retried counters.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	Now        func() time.Time // default time.Now
}

func (o Options) withDefaults() Options {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.SMTP.TLS == "" {
		o.SMTP.TLS = TLSStartTLS
	}
	if o.SMTP.Timeout <= 0 {
		o.SMTP.Timeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Sender sends the due reports when Run is called.
type Sender struct {
	o       Options
	planner *report.Planner
	tokens  *Tokens
	client  *mail.Client

	sent, failed, retried prometheus.Counter
}

// New checks the SMTP settings and returns a Sender.
func New(o Options) (*Sender, error) {
	o = o.withDefaults()
	if u, err := url.Parse(o.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("e-mail reports: public URL %q is not an absolute http(s) URL", o.PublicURL)
	}
	opts := []mail.Option{mail.WithPort(o.SMTP.Port), mail.WithTimeout(o.SMTP.Timeout),
		mail.WithTLSConfig(&tls.Config{ServerName: o.SMTP.Host, RootCAs: o.SMTP.RootCAs, MinVersion: tls.VersionTLS12})}
	switch o.SMTP.TLS {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("e-mail reports: TLS mode %q, want one of %s", o.SMTP.TLS, strings.Join(TLSModes, ", "))
	}
	if o.SMTP.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(o.SMTP.Username), mail.WithPassword(o.SMTP.Password))
	}
	client, err := mail.NewClient(o.SMTP.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("e-mail reports: %w", err)
	}
	s := &Sender{
		o: o, planner: report.New(o.Store, o.Now), tokens: NewTokens(o.Store), client: client,
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "footfall_report_emails_sent_total",
			Help: "Scheduled e-mail reports the SMTP server accepted."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "footfall_report_emails_failed_total",
			Help: "Scheduled e-mail reports given up on in a pass after every attempt failed (tried again at the next pass)."}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "footfall_report_email_retries_total",
			Help: "Failed attempts to send a scheduled e-mail report that were tried again within the pass."}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.sent, s.failed, s.retried} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("e-mail reports metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Due reports whether any site has reports configured.
func Due(cfg *config.Config) bool {
	for _, s := range cfg.Sites {
		if len(s.Reports) > 0 {
			return true
		}
	}
	return false
}

// Run sends every report due now: each site's last finished period of each
// of its schedules, to the recipients who have not had it and have not
// unsubscribed. It returns the errors of the reports not sent, which the
// next Run tries again.
func (s *Sender) Run(ctx context.Context) error {
	if !Due(s.o.Config) {
		return nil
	}
	if err := EnsureKey(ctx, s.o.Store, s.o.Now()); err != nil {
		return fmt.Errorf("e-mail reports: %w", err)
	}
	var errs []error
	for _, site := range s.o.Config.Sites {
		for _, r := range site.Reports {
			if err := s.runReport(ctx, site, r); err != nil {
				errs = append(errs, fmt.Errorf("%s report of %s: %w", r.Schedule, site.Domain, err))
			}
			if ctx.Err() != nil {
				return errors.Join(append(errs, ctx.Err())...)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Sender) runReport(ctx context.Context, cs config.Site, r config.Report) error {
	site, err := s.o.Store.SiteByDomain(ctx, cs.Domain)
	if err != nil {
		return err
	}
	loc, err := store.LoadZone(s.o.Config.SiteZone(cs.Domain))
	if err != nil {
		return err
	}
	now := s.o.Now().In(loc)
	period, err := aggregator.LastPeriod(r.Schedule, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	from := period.From.Format(time.DateOnly)
	due, err := s.recipientsDue(ctx, site.ID, r, from)
	if err != nil || len(due) == 0 {
		return err
	}
	figures, err := Build(ctx, s.planner, site, loc, r.Schedule, period)
	if err != nil {
		return err
	}
	var sent, failed int
	var errs []error
	for _, addr := range due {
		if err := s.sendOne(ctx, site, r.Schedule, from, figures, addr); err != nil {
			failed++
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		sent++
	}
	s.o.Log.Info("e-mail report", "site", site.Domain, "schedule", r.Schedule, "from", from, "sent", sent, "failed", failed)
	return errors.Join(errs...)
}

// recipientsDue lists the report's addresses that have neither had the
// period's report nor unsubscribed.
func (s *Sender) recipientsDue(ctx context.Context, siteID uint32, r config.Report, from string) ([]string, error) {
	done := map[string]bool{}
	sends, err := s.o.Store.ReportSends(ctx, siteID, r.Schedule, from)
	if err != nil {
		return nil, err
	}
	for _, x := range sends {
		done[x.Recipient] = true
	}
	unsub, err := s.o.Store.ReportUnsubscribes(ctx, siteID)
	if err != nil {
		return nil, err
	}
	for _, x := range unsub {
		done[x.Recipient] = true
	}
	var due []string
	for _, addr := range r.To {
		if !done[store.RecipientHash(addr)] {
			due = append(due, addr)
		}
	}
	return due, nil
}

// sendOne renders and sends the report to one address, trying up to
// Attempts times, and records it once the server accepted it.
func (s *Sender) sendOne(ctx context.Context, site store.Site, schedule, from string, f *Figures, addr string) error {
	hash := store.RecipientHash(addr)
	token, err := s.tokens.Sign(ctx, Unsubscribe{SiteID: site.ID, Domain: site.Domain, Recipient: hash})
	if err != nil {
		return err
	}
	link := strings.TrimSuffix(s.o.PublicURL, "/") + "/reports/unsubscribe/" + token
	msg, err := Render(f, link)
	if err != nil {
		return err
	}
	m, err := s.message(msg, addr, link)
	if err != nil {
		return err
	}
	wait := s.o.Backoff
	for attempt := 1; ; attempt++ {
		err = s.client.DialAndSendWithContext(ctx, m)
		if err == nil {
			break
		}
		if attempt >= s.o.Attempts || ctx.Err() != nil {
			s.failed.Inc()
			return fmt.Errorf("send (%d attempts): %s", attempt, redact(err, addr))
		}
		s.retried.Inc()
		s.o.Log.Warn("e-mail report not sent; trying again", "site", site.Domain, "schedule", schedule, "attempt", attempt, "wait", wait, "err", redact(err, addr))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait *= 2
	}
	s.sent.Inc()
	// A fresh context: the server took the message, so the record must be
	// written even when shutdown began meanwhile.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.o.Store.AddReportSend(rctx, store.ReportSend{SiteID: site.ID, Schedule: schedule, From: from, Recipient: hash, SentAt: s.o.Now().UTC().Truncate(time.Second)})
}

func (s *Sender) message(msg Message, addr, link string) (*mail.Msg, error) {
	m := mail.NewMsg()
	if err := m.From(s.o.SMTP.From); err != nil {
		return nil, fmt.Errorf("from address: %w", err)
	}
	if err := m.To(addr); err != nil {
		return nil, errors.New("bad recipient address")
	}
	m.Subject(msg.Subject)
	m.SetDate()
	m.SetMessageID()
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	if strings.HasPrefix(link, "https://") {
		if err := m.SetListUnsubscribeOneClick(link); err != nil {
			return nil, err
		}
	} else {
		m.SetListUnsubscribe(link)
	}
	m.SetBodyString(mail.TypeTextPlain, msg.Text)
	m.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	return m, nil
}

// redact is err's text without the address: SMTP errors name recipients.
func redact(err error, addr string) string {
	return strings.ReplaceAll(err.Error(), addr, "<recipient>")
}
