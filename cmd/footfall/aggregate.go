package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/mailreport"
	"github.com/footfall/footfall/server"
)

type aggregateFlags struct {
	common       commonFlags
	config       configFlag
	once         bool
	every        time.Duration
	from, to     string
	lookback     time.Duration
	exportDir    string
	exportFormat string
	mail         mailFlags
	publicURL    string
	metricsAddr  string
}

func aggregateCommand() *command {
	var a aggregateFlags
	c := &command{
		name: "aggregate",
		summary: "Turn raw events into the rollups analysts read. -once does every complete window not yet done, every window with late events " +
			"and the current window (marked partial); -every repeats that, enforcing the configured retention after each pass; -from and -to recompute the days given. " +
			"Hourly windows are UTC hours, daily windows days in each site's time zone.",
		flags: flag.NewFlagSet("aggregate", flag.ContinueOnError),
	}
	a.common.register(c.flags)
	a.config.register(c.flags, " (site time zones, partners)")
	c.flags.BoolVar(&a.once, "once", false, "aggregate what is due once and exit")
	c.flags.DurationVar(&a.every, "every", 0, "aggregate what is due, then again after this `interval`, until stopped")
	c.flags.StringVar(&a.from, "from", "", "recompute from this `date` (YYYY-MM-DD), with -to")
	c.flags.StringVar(&a.to, "to", "", "recompute up to this `date` (YYYY-MM-DD, inclusive), with -from")
	c.flags.DurationVar(&a.lookback, "lookback", 7*24*time.Hour, "how far back events arriving late re-queue their windows")
	c.flags.StringVar(&a.exportDir, "export-dir", "", "after each pass write the finished period of every partner with a schedule to `dir`/PARTNER/FROM_TO/ (needs -config)")
	c.flags.StringVar(&a.exportFormat, "export-format", aggregator.FormatCSV, "`format` of scheduled exports: csv or jsonl")
	a.mail.register(c.flags)
	c.flags.StringVar(&a.publicURL, "public-url", "", "public base `URL` of footfall serve as the reports' recipients reach it (e.g. https://stats.example.com): the base of their unsubscribe links (required with -smtp-host)")
	c.flags.StringVar(&a.metricsAddr, "metrics-addr", "off", "`host:port` serving GET /metrics (Prometheus) while -every runs: the e-mail reports' counters and the Go runtime's; off: none")
	c.check = func(args []string) []error {
		errs := append(a.common.check(), noArgs(args)...)
		modes := 0
		if a.once {
			modes++
		}
		if a.every != 0 {
			modes++
			if a.every < 10*time.Second {
				errs = append(errs, fmt.Errorf("-every: want at least 10s, got %s", a.every))
			}
		}
		if a.from != "" || a.to != "" {
			modes++
			errs = append(errs, checkDates(a.from, a.to)...)
		}
		if modes != 1 {
			errs = append(errs, errors.New("give exactly one of -once, -every DURATION, or -from DATE -to DATE"))
		}
		if a.lookback < time.Hour {
			errs = append(errs, fmt.Errorf("-lookback: want at least 1h, got %s", a.lookback))
		}
		errs = append(errs, a.config.check()...)
		if a.exportDir != "" && a.config.path == "" {
			errs = append(errs, errors.New("-export-dir: needs -config (the partners)"))
		}
		errs = append(errs, a.mail.check()...)
		errs = append(errs, checkPublicURL(a.publicURL)...)
		if a.mail.host != "" && a.publicURL == "" {
			errs = append(errs, errors.New("-smtp-host: needs -public-url (the base of the reports' unsubscribe links)"))
		}
		if a.mail.host != "" && a.config.path == "" {
			errs = append(errs, errors.New("-smtp-host: needs -config (the sites' reports)"))
		}
		if a.metricsAddr != "off" {
			if _, _, err := net.SplitHostPort(a.metricsAddr); err != nil {
				errs = append(errs, fmt.Errorf("-metrics-addr: want host:port or off, got %q", a.metricsAddr))
			}
		}
		if a.exportFormat != aggregator.FormatCSV && a.exportFormat != aggregator.FormatJSONL {
			errs = append(errs, fmt.Errorf("-export-format: want csv or jsonl, got %q", a.exportFormat))
		}
		return errs
	}
	c.run = func(ctx context.Context, env *runEnv, _ []string) error { return aggregate(ctx, env, a) }
	return c
}

// checkDates validates a -from/-to pair of dates.
func checkDates(from, to string) []error {
	var errs []error
	f, ferr := time.Parse(time.DateOnly, from)
	if ferr != nil {
		errs = append(errs, fmt.Errorf("-from: want a date like 2026-03-14, got %q", from))
	}
	t, terr := time.Parse(time.DateOnly, to)
	if terr != nil {
		errs = append(errs, fmt.Errorf("-to: want a date like 2026-03-14, got %q", to))
	}
	if ferr == nil && terr == nil && t.Before(f) {
		errs = append(errs, fmt.Errorf("-to %s is before -from %s", to, from))
	}
	return errs
}

func aggregate(ctx context.Context, env *runEnv, a aggregateFlags) error {
	log := a.common.logger(env.stderr)
	cfg, err := a.config.load() // without a file the defaults, retention included
	if err != nil {
		return err
	}
	st, err := openForAggregation(ctx, env, a.common)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := aggregator.Options{Store: st, Zone: cfg.SiteZone, Lookback: a.lookback, Log: log}
	if !(a.every > 0) {
		opts.Progress = newProgress(env.stderr).report
	}
	agg := aggregator.New(opts)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var reports *mailreport.Sender
	if a.once || a.every > 0 {
		if reports, err = a.mail.sender(st, cfg, a.publicURL, reg, log); err != nil {
			return err
		}
	}
	var sum aggregator.Summary
	switch {
	case a.every > 0:
		// After each pass's retention: the partners' scheduled exports,
		// then the scheduled e-mail reports.
		after := func(ctx context.Context) error {
			var errs []error
			if a.exportDir != "" {
				written, err := aggregator.ScheduledExports(ctx, aggregator.ScheduleOptions{Source: st, Config: cfg, Dir: a.exportDir, Format: a.exportFormat, Now: time.Now()})
				for _, dir := range written {
					log.Info("partner export written", "dir", dir)
				}
				errs = append(errs, err)
			}
			if reports != nil {
				errs = append(errs, reports.Run(ctx))
			}
			return errors.Join(errs...)
		}
		if a.metricsAddr != "off" {
			stop, err := serveMetrics(a.metricsAddr, reg, log)
			if err != nil {
				return err
			}
			defer stop()
		}
		return aggregateEvery(ctx, agg, st, cfg.Retention, a.every, log, after)
	case a.once:
		sum, err = agg.Once(ctx)
	default:
		from, _ := time.Parse(time.DateOnly, a.from)
		to, _ := time.Parse(time.DateOnly, a.to)
		sum, err = agg.Recompute(ctx, from, to)
	}
	fmt.Fprintf(env.stdout, "aggregated %d windows in %d jobs (%d failed): %d rows read, %d rows written\n",
		sum.Windows, sum.Jobs, sum.Failed, sum.RowsRead, sum.RowsWritten)
	if err != nil {
		return err
	}
	if !a.once {
		return nil
	}
	var errs []error
	if a.exportDir != "" {
		written, err := aggregator.ScheduledExports(ctx, aggregator.ScheduleOptions{Source: st, Config: cfg, Dir: a.exportDir, Format: a.exportFormat, Now: time.Now()})
		for _, dir := range written {
			fmt.Fprintf(env.stdout, "wrote partner export %s\n", dir)
		}
		errs = append(errs, err)
	}
	if reports != nil {
		errs = append(errs, reports.Run(ctx))
	}
	return errors.Join(errs...)
}

// serveMetrics serves GET /metrics of reg on addr until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics (-metrics-addr): %w", err)
	}
	srv := &http.Server{Handler: server.NewMetrics(reg), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics http", "err", err)
		}
	})
	log.Info("metrics serving", "addr", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		wg.Wait()
	}, nil
}

// aggregationReadTimeout is how long the aggregator waits for one ClickHouse
// query: aggregating a big site's day is one long INSERT … SELECT, and the
// store's default (60s) suits the collector's short queries.
const aggregationReadTimeout = 30 * time.Minute

// openForAggregation opens and migrates the store as the admin commands
// do, with aggregationReadTimeout unless the DSN sets read_timeout.
func openForAggregation(ctx context.Context, env *runEnv, common commonFlags) (backend, error) {
	t, _ := parseStore(common.store) // validated by check
	return common.openMigratedAt(ctx, env, forAggregation(t, common.store))
}

// forAggregation is store t with aggregationReadTimeout on ClickHouse,
// unless its DSN sets read_timeout.
func forAggregation(t storeTarget, dsn string) storeTarget {
	if t.clickhouse != nil && !strings.Contains(dsn, "read_timeout=") {
		opts := *t.clickhouse
		opts.ReadTimeout = aggregationReadTimeout
		t.clickhouse = &opts
	}
	return t
}

// progress shows how far a run is: a bar redrawn in place on a terminal,
// one plain line per job otherwise (logs, CI, pipes).
type progress struct {
	w       io.Writer
	tty     bool
	started time.Time
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w), started: time.Now()}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) report(pr aggregator.Progress) {
	status := "ok"
	if pr.Err != nil {
		status = "FAILED: " + pr.Err.Error()
	}
	j := pr.Job
	what := fmt.Sprintf("%s %s %s", j.Site.Domain, j.Granularity, j.From.Format("2006-01-02T15:04Z07:00"))
	if !p.tty {
		fmt.Fprintf(p.w, "aggregate: %d/%d %s..%s (%d windows, %s) %s\n", pr.Done, pr.Total, what,
			j.To.Format("2006-01-02T15:04Z07:00"), len(j.Windows), j.Reason, status)
		return
	}
	const width = 30
	filled := width * pr.Done / max(pr.Total, 1)
	elapsed := time.Since(p.started).Round(time.Second)
	eta := time.Duration(0)
	if pr.Done > 0 {
		eta = (time.Since(p.started) * time.Duration(pr.Total-pr.Done) / time.Duration(pr.Done)).Round(time.Second)
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d %s elapsed %s, left ~%s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		pr.Done, pr.Total, what, elapsed, eta)
	if pr.Err != nil {
		fmt.Fprintf(p.w, "\n%s: %s\n", what, status)
	}
	if pr.Done == pr.Total {
		fmt.Fprintln(p.w)
	}
}
