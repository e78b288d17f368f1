package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/config"
)

// mailFlags are the SMTP settings of the scheduled e-mail reports
// (docs/operations.md), which the process that aggregates sends after each
// pass: footfall aggregate, or serve aggregating in-process.
type mailFlags struct {
	host, tls, user, password, from string
	ca                              string
	port, attempts                  int
	backoff                         time.Duration
}

func (f *mailFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "smtp-host", "", "`host` of the SMTP server the scheduled e-mail reports (sites[].reports in -config) are sent through, after each aggregation pass; empty: none are sent")
	fs.IntVar(&f.port, "smtp-port", 587, "`port` of the SMTP server (587 submission with STARTTLS, 465 implicit TLS, 25)")
	fs.StringVar(&f.tls, "smtp-tls", mailreport.TLSStartTLS, "`mode` of TLS: starttls (required), opportunistic (STARTTLS when offered), tls (implicit, port 465) or none")
	fs.StringVar(&f.ca, "smtp-ca", "", "`file` of PEM certificates of the authorities the SMTP server's certificate is checked against (default: the system's)")
	fs.StringVar(&f.user, "smtp-user", "", "`user` name to authenticate with (the mechanisms the server offers); empty: no authentication")
	fs.StringVar(&f.password, "smtp-password", "", "`password` of -smtp-user (prefer the environment variable)")
	fs.StringVar(&f.from, "smtp-from", "", "From `address` of the reports, e.g. footfall@stats.example.com (required with -smtp-host)")
	fs.IntVar(&f.attempts, "report-attempts", 3, "how often to try one report `count` times within a pass before leaving it to the next pass")
	fs.DurationVar(&f.backoff, "report-backoff", 30*time.Second, "wait after a report's first failed attempt, doubled after each")
}

func (f *mailFlags) check() []error {
	if f.host == "" {
		return nil
	}
	var errs []error
	if f.port < 1 || f.port > 65535 {
		errs = append(errs, fmt.Errorf("-smtp-port: want 1 to 65535, got %d", f.port))
	}
	if !slices.Contains(mailreport.TLSModes, f.tls) {
		errs = append(errs, fmt.Errorf("-smtp-tls: want %s, got %q", strings.Join(mailreport.TLSModes, ", "), f.tls))
	}
	if a, err := mail.ParseAddress(f.from); err != nil || a.Name != "" {
		errs = append(errs, errors.New("-smtp-from: want a plain address such as footfall@stats.example.com"))
	}
	if f.ca != "" {
		if _, err := f.rootCAs(); err != nil {
			errs = append(errs, fmt.Errorf("-smtp-ca: %w", err))
		}
	}
	if f.password != "" && f.user == "" {
		errs = append(errs, errors.New("-smtp-password: needs -smtp-user"))
	}
	if f.attempts < 1 || f.attempts > 10 {
		errs = append(errs, fmt.Errorf("-report-attempts: want 1 to 10, got %d", f.attempts))
	}
	if f.backoff <= 0 || f.backoff > time.Hour {
		errs = append(errs, fmt.Errorf("-report-backoff: want more than 0 and at most 1h, got %s", f.backoff))
	}
	return errs
}

// checkPublicURL validates a -public-url value ("" allowed).
func checkPublicURL(s string) []error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return []error{fmt.Errorf("-public-url: want an absolute http or https URL without query, got %q", s)}
	}
	return nil
}

// sender returns the reports' sender, or nil when no SMTP server is set or
// no site has reports (a configuration with reports and no server is
// logged: another process may be the one that sends).
func (f *mailFlags) sender(st mailreport.Store, cfg *config.Config, publicURL string, reg prometheus.Registerer, log *slog.Logger) (*mailreport.Sender, error) {
	if !mailreport.Due(cfg) {
		return nil, nil
	}
	if f.host == "" {
		log.Info("the config lists e-mail reports; this process sends none (no -smtp-host)")
		return nil, nil
	}
	roots, err := f.rootCAs()
	if err != nil {
		return nil, fmt.Errorf("-smtp-ca: %w", err)
	}
	s, err := mailreport.New(mailreport.Options{
		Store: st, Config: cfg, PublicURL: publicURL,
		SMTP:     mailreport.SMTP{Host: f.host, Port: f.port, TLS: f.tls, Username: f.user, Password: f.password, From: f.from, RootCAs: roots},
		Attempts: f.attempts, Backoff: f.backoff, Registerer: reg, Log: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("sending scheduled e-mail reports after each aggregation pass", "smtp", f.host, "tls", f.tls)
	return s, nil
}

// rootCAs reads -smtp-ca; nil without it (the system's authorities).
func (f *mailFlags) rootCAs() (*x509.CertPool, error) {
	if f.ca == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", f.ca)
	}
	return pool, nil
}
