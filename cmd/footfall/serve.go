package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server/app"
	"github.com/footfall/footfall/store"
)

type serveFlags struct {
	common         commonFlags
	addr           string
	publicURL      string
	metricsAddr    string
	config         configFlag
	flushInterval  time.Duration
	flushSize      int
	queueSize      int
	autoMigrate    bool
	demo           bool
	shutdown       time.Duration
	consentRefresh time.Duration
	consentRate    int
	sampleAbove    uint64
	aggregateEvery aggregateSchedule
	enrich         enrichFlags
	ingest         ingestFlags
	checkpoints    checkpointFlags
	mail           mailFlags
}

// maxConsentAge bounds how far back withdrawals matter: no policy lets a
// token live longer.
const maxConsentAge = 400 * 24 * time.Hour

func serveCommand() *command {
	var s serveFlags
	c := &command{
		name:    "serve",
		summary: "Run the collector, the reports API and the dashboard. With no flags it keeps everything in ./footfall-data/ and listens on 127.0.0.1:8080.",
		flags:   flag.NewFlagSet("serve", flag.ContinueOnError),
	}
	s.common.register(c.flags)
	c.flags.StringVar(&s.addr, "addr", "127.0.0.1:8080", "`host:port` to listen on")
	c.flags.StringVar(&s.publicURL, "public-url", "", "public base `URL` of this server, as visitors and subscribers reach it (e.g. https://stats.example.com): the base of the newsletter links the admin API signs (default: http:// and -addr)")
	c.flags.StringVar(&s.metricsAddr, "metrics-addr", "127.0.0.1:9091", "`host:port` serving GET /metrics (Prometheus), apart from -addr so that a proxy publishing -addr never publishes the metrics; off: none")
	s.config.register(c.flags, " (sites, consent policy, partners, retention)")
	c.flags.DurationVar(&s.flushInterval, "flush-interval", time.Second, "write buffered events at least this often")
	c.flags.IntVar(&s.flushSize, "flush-size", 20000, "write buffered events as soon as this many wait")
	c.flags.IntVar(&s.queueSize, "queue-size", 100000, "how many accepted events may wait in memory; beyond it they go to the disk spool (-spool-dir)")
	c.flags.BoolVar(&s.autoMigrate, "auto-migrate", true, "apply pending schema migrations at start-up")
	c.flags.BoolVar(&s.demo, "demo", false, "fill the store with two generated months for "+aggregator.DemoDomain+" (if it has no data yet), aggregate them, and print an admin login to stderr")
	s.aggregateEvery = aggregateSchedule{auto: true}
	c.flags.Var(&s.aggregateEvery, "aggregate-every", "how often to aggregate in-process, as footfall aggregate -every would: auto (every "+
		defaultAggregateEvery.String()+" on the embedded SQLite store; never on ClickHouse, where one footfall aggregate runs per store), off, or an `interval` such as 1m (on any store)")
	c.flags.DurationVar(&s.shutdown, "shutdown-timeout", 30*time.Second, "on SIGTERM, the time for the whole shutdown: finish requests, write buffered events (what the store does not take in time is spooled)")
	s.ingest.register(c.flags)
	s.enrich.register(c.flags)
	s.checkpoints.register(c.flags, true)
	s.mail.register(c.flags)
	c.flags.Uint64Var(&s.sampleAbove, "sample-above", 0, "read a report's visit rows from a sample when its period holds more than this many raw `events` (pageviews and events; ClickHouse only, SQLite never samples): the rate is 1/N with N = events / this, rounded up, at most 100; visitors, visits, pageviews and events read from visit rows are scaled by N and the answer is marked \"sampled\": \"1/N\" (docs/reports.md gives the error); 0, the default, never samples")
	c.flags.IntVar(&s.consentRate, "consent-rate", 30, "consent decisions a minute one client (an IPv4 address or IPv6 /64) may post, in bursts of 10; beyond it 429; 0 turns the limit off")
	c.flags.DurationVar(&s.consentRefresh, "consent-refresh", 2*time.Second, "how often to read withdrawals and key changes made by other collectors (bounds how long a withdrawal takes to reach every replica)")
	c.check = func(args []string) []error {
		errs := append(s.common.check(), noArgs(args)...)
		if _, _, err := net.SplitHostPort(s.addr); err != nil {
			errs = append(errs, fmt.Errorf("-addr: want host:port, got %q", s.addr))
		}
		if s.metricsAddr != "off" {
			if _, _, err := net.SplitHostPort(s.metricsAddr); err != nil {
				errs = append(errs, fmt.Errorf("-metrics-addr: want host:port or off, got %q", s.metricsAddr))
			}
		}
		errs = append(errs, checkPublicURL(s.publicURL)...)
		errs = append(errs, s.config.check()...)
		if s.flushInterval < 10*time.Millisecond || s.flushInterval > time.Hour {
			errs = append(errs, fmt.Errorf("-flush-interval: want 10ms to 1h, got %s", s.flushInterval))
		}
		if s.flushSize < 1 {
			errs = append(errs, fmt.Errorf("-flush-size: want at least 1, got %d", s.flushSize))
		}
		if s.queueSize < s.flushSize {
			errs = append(errs, fmt.Errorf("-queue-size: want at least -flush-size (%d), got %d", s.flushSize, s.queueSize))
		}
		errs = append(errs, s.enrich.check()...)
		errs = append(errs, s.ingest.check()...)
		errs = append(errs, s.checkpoints.check()...)
		errs = append(errs, s.mail.check()...)
		if s.consentRate < 0 {
			errs = append(errs, fmt.Errorf("-consent-rate: want 0 (no limit) or more, got %d", s.consentRate))
		}
		errs = append(errs, s.aggregateEvery.check()...)
		if s.consentRefresh < 100*time.Millisecond || s.consentRefresh > time.Minute {
			errs = append(errs, fmt.Errorf("-consent-refresh: want 100ms to 1m, got %s", s.consentRefresh))
		}
		if s.shutdown <= 0 {
			errs = append(errs, fmt.Errorf("-shutdown-timeout: must be positive"))
		}
		return errs
	}
	c.run = func(ctx context.Context, env *runEnv, _ []string) error { return serve(ctx, env, s) }
	return c
}

func serve(ctx context.Context, env *runEnv, s serveFlags) error {
	log := s.common.logger(env.stderr)
	tuneGC(os.Getenv, s.queueSize, log)
	// Every event gets a random id: read the randomness in batches rather
	// than one crypto/rand call per event (~2% of a beacon's CPU).
	uuid.EnableRandPool()
	cfg, err := s.config.load()
	if err != nil {
		return err
	}
	target, _ := parseStore(s.common.store)
	st, err := openStore(ctx, target, s.autoMigrate, s.common.storeWait, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if s.autoMigrate {
		if err := migrate(ctx, st, log); err != nil {
			return err
		}
	}
	for _, site := range cfg.Sites {
		if _, err := st.AddSite(ctx, site.Domain); err != nil && !errors.Is(err, store.ErrSiteExists) {
			return fmt.Errorf("register configured site %s: %w", site.Domain, err)
		}
	}
	if s.demo {
		if err := seedDemo(ctx, st, env.stderr, s.addr, log); err != nil {
			return err
		}
	}
	if err := ensureFirstUser(ctx, st, target, env.stderr, s.addr, log); err != nil {
		return err
	}
	if err := audit(ctx, st, "serve", "config", s.config.path, configSummary(cfg, s.config.path)); err != nil {
		return err
	}
	policies, err := recordPolicyVersions(ctx, st, cfg, time.Now())
	if err != nil {
		return err
	}
	// The spool closes after the buffer's final flush and before the store
	// (deferred later, run earlier).
	spool, err := s.ingest.openSpool(target, log)
	if err != nil {
		return err
	}
	defer spool.Close()
	// Like the spool, a folder that cannot hold the ledger's checkpoints
	// is reported, not fatal: the collector keeps serving.
	checkpoints, checkpointPath, err := s.checkpoints.open(spool.Dir())
	if err != nil {
		log.Error("consent ledger checkpoints unusable: none are written", "err", err)
	}
	if checkpoints != nil {
		log.Info("consent ledger checkpoints", "file", checkpointPath, "every", s.checkpoints.every)
	}
	reportStore, ok := st.(app.Store) // both backends are
	if !ok {
		return fmt.Errorf("store %s cannot serve the product", target.describe())
	}
	// On ClickHouse, in-process aggregation (only when asked) has its own
	// connection with the aggregator's long read timeout.
	every, aggStore := s.aggregateEvery.interval(target), st
	if every > 0 && target.clickhouse != nil {
		if aggStore, err = openStore(ctx, forAggregation(target, s.common.store), false, s.common.storeWait, log); err != nil {
			return err
		}
		defer aggStore.Close()
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var background func(context.Context)
	if every > 0 {
		// After each in-process pass's retention: the scheduled e-mail reports.
		var more func(context.Context) error
		reports, err := s.mail.sender(aggStore, cfg, s.publicBase(), reg, log)
		if err != nil {
			return err
		}
		if reports != nil {
			more = reports.Run
		}
		agg := aggregator.New(aggregator.Options{Store: aggStore, Zone: cfg.SiteZone, Log: log})
		background = func(ctx context.Context) { aggregateEvery(ctx, agg, aggStore, cfg.Retention, every, log, more) }
	}
	proxies, _ := parsePrefixes(s.enrich.trustedProxies) // validated by check
	product, err := app.New(ctx, app.Options{
		Store: reportStore, Config: cfg, PolicyVersions: policies,
		Buffer: collector.BufferOptions{
			QueueSize: s.queueSize, FlushSize: s.flushSize, FlushInterval: s.flushInterval, DrainTimeout: s.shutdown,
			Spool: spool, Durable: s.ingest.durability == durabilityFsync,
		},
		Enrich:         s.enrich.options(st, log),
		ConsentMaxAge:  maxConsentAge,
		ConsentRefresh: s.consentRefresh,
		ConsentRate:    cmp.Or(s.consentRate, -1),
		Checkpoints:    checkpoints, CheckpointEvery: s.checkpoints.every,
		TrustedProxies: proxies,
		PublicURL:      s.publicBase(),
		SampleAbove:    s.sampleAbove,
		Registry:       reg,
		Background:     background,
		Log:            log,
	})
	if err != nil {
		if checkpoints != nil {
			checkpoints.Close()
		}
		return err
	}

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		product.Stop(time.Now())
		return fmt.Errorf("listen: %w", err)
	}
	product.Handler = withDebug(product.Handler)
	ls := app.Listeners{Addr: ln}
	if s.metricsAddr != "off" {
		if ls.Metrics, err = net.Listen("tcp", s.metricsAddr); err != nil {
			ln.Close()
			product.Stop(time.Now())
			return fmt.Errorf("listen for metrics (-metrics-addr): %w", err)
		}
		log.Info("metrics serving", "addr", "http://"+ls.Metrics.Addr().String()+"/metrics")
	}
	log.Info("footfall serving", "addr", "http://"+ln.Addr().String(), "store", target.describe(), "version", version,
		"spool", spool.Dir(), "durability", s.ingest.durability)
	if every > 0 {
		log.Info("aggregating in-process", "every", every)
	}
	if err := product.Run(ctx, ls, s.shutdown); err != nil {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// publicBase is -public-url, or a URL of -addr without it.
func (s serveFlags) publicBase() string {
	if s.publicURL != "" {
		return s.publicURL
	}
	return "http://" + s.addr
}

// configSummary is what the audit log records of the configuration a server
// starts with: enough to see what changed between two starts.
func configSummary(cfg *config.Config, path string) map[string]any {
	sum := map[string]any{"version": version}
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			h := sha256.Sum256(b)
			sum["sha256"] = hex.EncodeToString(h[:])
		}
	}
	var sites []string
	for _, s := range cfg.Sites {
		sites = append(sites, fmt.Sprintf("%s policy v%d", s.Domain, s.Consent.PolicyVersion))
	}
	var partners []string
	for _, p := range cfg.Partners {
		partners = append(partners, p.Name)
	}
	sum["sites"], sum["partners"], sum["retention"] = sites, partners, cfg.Retention
	return sum
}

// The Go collector's settings for serve, unless the environment sets the
// runtime's own GOGC or GOMEMLIMIT. A beacon leaves garbage behind and
// little live data, so the heap may grow to five times the live heap
// (GOGC=400) before a collection: a quarter of the collections of the
// default. A soft memory limit caps what that costs when the live heap is
// large (a full queue): from gcBaseMemory plus gcQueuedEventMemory per
// event of -queue-size, the collector runs as often as it must to stay
// under it.
const (
	gcPercent           = 400
	gcBaseMemory        = 64 << 20
	gcQueuedEventMemory = 1 << 10 // a queued event with its strings: ~0.8 KiB
)

// tuneGC applies the collector settings above; getenv is os.Getenv.
func tuneGC(getenv func(string) string, queueSize int, log *slog.Logger) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		log.Debug("garbage collector: GOGC not set", "gc_percent", gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		limit := gcBaseMemory + int64(queueSize)*gcQueuedEventMemory
		debug.SetMemoryLimit(limit)
		log.Debug("garbage collector: GOMEMLIMIT not set", "memory_limit_bytes", limit)
	}
}
