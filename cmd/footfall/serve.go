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
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web"
	"github.com/footfall/footfall/web/admin"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/dashboard"
	"github.com/footfall/footfall/web/reports"
	"github.com/footfall/footfall/web/share"
	"github.com/footfall/footfall/web/unsubscribe"
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
	aggregateEvery aggregateSchedule
	enrich         enrichFlags
	ingest         ingestFlags
	checkpoints    checkpointFlags
	mail           mailFlags
}

// maxConsentAge bounds how far back withdrawals matter: no policy lets a
// token live longer.
const maxConsentAge = 400 * 24 * time.Hour

// writeTimeout bounds every response; reportBudget, each report's time
// limit, stays below it so a slow report is a 503, not a cut connection.
const (
	writeTimeout = 30 * time.Second
	reportBudget = writeTimeout - 10*time.Second
)

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
	sites := collector.NewSites(st, time.Second)
	if err := sites.Load(ctx); err != nil {
		return err
	}
	consentState, err := collector.LoadConsentState(ctx, st, maxConsentAge, s.consentRefresh, log)
	if err != nil {
		return err
	}
	enricher, err := enrich.New(s.enrich.options(st, log))
	if err != nil {
		return err
	}
	defer enricher.Close() // after the HTTP server stopped: it unmaps the geo databases
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := collector.NewMetrics(reg)
	// The spool closes after the buffer's final flush (deferred later, run
	// earlier) and before the store.
	spool, err := s.ingest.openSpool(target, log)
	if err != nil {
		return err
	}
	defer spool.Close()
	// Erasures are durable work: pending ones (a withdrawal whose erasure
	// did not finish before a stop) are read now and done by the loop.
	var buffer *collector.Buffer
	erasures := erasure.New(erasure.Options{
		Store: st, Settle: func(ctx context.Context) error { return buffer.Settle(ctx) },
		MaxAge: maxConsentAge, Registerer: reg, Log: log,
	})
	if err := erasures.Load(ctx); err != nil {
		return err
	}
	buffer = collector.NewBuffer(st, collector.BufferOptions{
		QueueSize:     s.queueSize,
		FlushSize:     s.flushSize,
		FlushInterval: s.flushInterval,
		DrainTimeout:  s.shutdown,
		Log:           log,
		Discard:       func(e *store.Event) bool { return consentState.Revoked(e.ConsentID) || erasures.Covers(e) },
		Spool:         spool,
		Durable:       s.ingest.durability == durabilityFsync,
		Metrics:       metrics,
	})
	// The consent ledger's chains of this process, and the file their heads
	// are signed into.
	chain := consent.NewChain(uuid.New())
	// Like the spool, a folder that cannot hold them is reported, not
	// fatal: the collector keeps serving.
	checkpoints, checkpointPath, err := s.checkpoints.open(spool.Dir())
	if err != nil {
		log.Error("consent ledger checkpoints unusable: none are written", "err", err)
	}
	if checkpoints != nil {
		defer checkpoints.Close()
	}
	// One subject-rights service for the visitor endpoints and the admin API.
	subjects := subject.New(subject.Options{Store: st, Erasures: erasures, Flush: buffer.Flush})
	coll := collector.New(collector.Options{
		Sites: sites, Config: cfg, PolicyVersions: policies, Consent: consentState, Ledger: st, Chain: chain, Buffer: buffer,
		Erasures: erasures, Subjects: subjects, Enricher: enricher,
		Metrics: metrics, Log: log, ConsentRate: cmp.Or(s.consentRate, -1),
	})
	scripts, err := web.New(web.Options{Events: coll, Log: log})
	if err != nil {
		return err
	}
	board, err := dashboard.New()
	if err != nil {
		return err
	}
	reportStore, ok := st.(reports.Store) // both backends are
	if !ok {
		return fmt.Errorf("store %s cannot serve reports", target.describe())
	}
	proxies, _ := parsePrefixes(s.enrich.trustedProxies) // validated by check
	access := auth.New(auth.Options{Store: st, TrustedProxies: proxies, Audit: st, Log: log})
	admins := admin.New(admin.Options{Store: st, Links: consentState.Links(), Subjects: subjects, PublicURL: s.publicBase()})
	shareStore, ok := st.(share.Store) // both backends are
	if !ok {
		return fmt.Errorf("store %s cannot serve share links", target.describe())
	}
	shares, err := share.New(share.Options{Store: shareStore, Config: cfg, PublicURL: s.publicBase(), TrustedProxies: proxies,
		Log: log, Metrics: reg})
	if err != nil {
		return err
	}
	handler := server.New(server.Options{
		Admin:     admins,
		Auth:      access,
		Collector: coll,
		Web:       scripts,
		Dashboard: board,
		Share:     shares,
		Reports:   reports.New(reports.Options{Store: reportStore, Config: cfg, Budget: reportBudget, Metrics: reg}),
		Store:     st,
		Ready:     readiness(buffer),
		// Ready decides; the store's state is its own signal.
		StoreWritable: buffer.StoreWritable,
		Unsubscribe:   unsubscribe.New(st, log),
		Log:           log,
	})

	// On ClickHouse, in-process aggregation (only when asked) has its own
	// connection with the aggregator's long read timeout.
	every, aggStore := s.aggregateEvery.interval(target), st
	if every > 0 && target.clickhouse != nil {
		if aggStore, err = openStore(ctx, forAggregation(target, s.common.store), false, s.common.storeWait, log); err != nil {
			return err
		}
		defer aggStore.Close()
	}
	// After each in-process pass's retention: the scheduled e-mail reports.
	var more func(context.Context) error
	if every > 0 {
		reports, err := s.mail.sender(aggStore, cfg, s.publicBase(), reg, log)
		if err != nil {
			return err
		}
		if reports != nil {
			more = reports.Run
		}
	}

	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           withDebug(handler),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// The metrics have a listener of their own, so that publishing -addr
	// (the collector, the dashboard) never publishes them.
	var metricsSrv *http.Server
	var metricsLn net.Listener
	if s.metricsAddr != "off" {
		metricsLn, err = net.Listen("tcp", s.metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics (-metrics-addr): %w", err)
		}
		metricsSrv = &http.Server{
			Handler:           server.NewMetrics(reg),
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		log.Info("metrics serving", "addr", "http://"+metricsLn.Addr().String()+"/metrics")
	}
	log.Info("footfall serving", "addr", "http://"+ln.Addr().String(), "store", target.describe(), "version", version,
		"spool", spool.Dir(), "durability", s.ingest.durability)

	// The buffer outlives the HTTP server: it stops only after the last
	// request has handed over its events.
	bufCtx, stopBuffer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBuffer()
	var wg sync.WaitGroup
	var bufErr, srvErr error
	wg.Go(func() { bufErr = buffer.Run(bufCtx) })
	wg.Go(func() { enricher.Run(bufCtx) })
	// The consent state and the erasure loop stop before the buffer: an
	// erasure waits for the buffer's write under way. What they leave
	// undone stays recorded for the next start.
	consentCtx, stopConsent := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsent()
	var consentWG sync.WaitGroup
	consentState.OnLearnt(coll.EraseLearnt)
	consentWG.Go(func() { consentState.Run(consentCtx) })
	consentWG.Go(func() { erasures.Run(consentCtx) })
	if checkpoints != nil {
		log.Info("consent ledger checkpoints", "file", checkpointPath, "every", s.checkpoints.every)
		consentWG.Go(func() { checkpoints.Run(consentCtx, chain, s.checkpoints.every, time.Now, log) })
	}
	// In-process aggregation stops when shutdown begins and is waited for
	// before the store closes.
	aggCtx, stopAggregation := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAggregation()
	var aggWG sync.WaitGroup
	if every > 0 {
		agg := aggregator.New(aggregator.Options{Store: aggStore, Zone: cfg.SiteZone, Log: log})
		log.Info("aggregating in-process", "every", every)
		aggWG.Go(func() { aggregateEvery(aggCtx, agg, aggStore, cfg.Retention, every, log, more) })
	}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			srvErr = err
		}
	}()
	var metricsWG sync.WaitGroup
	var metricsErr error
	if metricsSrv != nil {
		metricsWG.Go(func() {
			if err := metricsSrv.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
				metricsErr = err
			}
		})
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "queued_events", buffer.Len())
	case <-serveDone:
	}
	stopAggregation() // a pass under way ends now; it is redone at the next start
	// One deadline for the whole shutdown: requests, the buffer's write
	// under way (cut off and spooled if the store hangs), and the drain.
	shutdownBy := time.Now().Add(s.shutdown)
	shutCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), shutdownBy)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	<-serveDone
	if metricsSrv != nil {
		if err := metricsSrv.Shutdown(shutCtx); err != nil {
			log.Warn("metrics http shutdown", "err", err)
		}
		metricsWG.Wait()
	}
	aggWG.Wait()
	stopConsent()
	consentWG.Wait()
	erasures.Drain(shutCtx) // within the shutdown's deadline
	buffer.StopBy(shutdownBy)
	stopBuffer()
	wg.Wait()
	if bufErr != nil {
		return bufErr
	}
	if srvErr != nil {
		return fmt.Errorf("serve: %w", srvErr)
	}
	if metricsErr != nil {
		return fmt.Errorf("serve metrics: %w", metricsErr)
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
