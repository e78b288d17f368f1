// Package app assembles the running product from a store and its
// settings: the collector with its buffer, consent state, erasure loop,
// enricher and subject-rights service; the scripts, the dashboard, the
// reports, auth and admin APIs; one router over them all. It owns the
// start-up and the shutdown order. footfall serve runs it on its
// listeners, and the test rigs build the same product in process.
//
// Shutdown order (Run, or Stop after the caller stopped its HTTP server):
// stop accepting HTTP and finish the requests under way; stop the
// background work (in-process aggregation, the consent refresher, the
// erasure loop, checkpoints); attempt the pending erasures; drain the
// buffer on a fresh deadline of its own (what the store does not take in
// time is spooled); close what New opened. The store, and the spool, are
// the caller's: it closes them after.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/collector/erasure"
	"github.com/footfall/footfall/collector/spool"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
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

// WriteTimeout bounds every response; ReportBudget, each report's
// default time limit, stays below it so a slow report is a 503, not a cut
// connection.
const (
	WriteTimeout = 30 * time.Second
	ReportBudget = WriteTimeout - 10*time.Second
)

// Store is what the running product needs of a store; both backends
// satisfy it.
type Store interface {
	collector.EventWriter
	collector.SiteLister
	collector.ConsentStore
	collector.Ledger
	enrich.SaltStore
	erasure.Store
	subject.Store
	server.Pinger
	auth.Store
	auth.Auditor
	admin.Store
	reports.Store
	unsubscribe.Store
	share.Store
}

// Options are the settings of the running product.
type Options struct {
	Store  Store
	Config *config.Config // sites, consent policies, partners; nil: the defaults
	// PolicyVersions are the recorded consent policy versions with the
	// time each took effect (GET /api/consent/policy shows them).
	PolicyVersions []store.PolicyVersion
	// Buffer sets the event queue: QueueSize, FlushSize, FlushInterval,
	// DrainTimeout, Spool, Durable. Its Discard, Metrics and Log are the
	// app's.
	Buffer collector.BufferOptions
	// Sink takes the buffer's batches; nil: Store. (A benchmark of the
	// request path gives a sink that writes nothing.)
	Sink collector.EventWriter
	// Enrich sets the enricher; its Salts and Log default to Store and Log.
	Enrich enrich.Options
	// ConsentMaxAge bounds how far back withdrawals and erasure requests
	// matter (no policy lets a token live longer). Default 400 days.
	ConsentMaxAge time.Duration
	// ConsentRefresh is how often withdrawals and key changes of other
	// replicas are read. Default 2s.
	ConsentRefresh time.Duration
	// ConsentRate limits consent decisions per client a minute; 0: the
	// collector's default; negative: no limit.
	ConsentRate int
	// Checkpoints, when set, receives a signed head of this process's
	// ledger chains every CheckpointEvery; the app closes it.
	Checkpoints     *consent.CheckpointLog
	CheckpointEvery time.Duration
	// TrustedProxies may forward the client's address (X-Forwarded-For).
	TrustedProxies []netip.Prefix
	// PublicURL is the base of the newsletter links the admin API signs.
	PublicURL string
	// ReportBudget is each report's time limit. Default ReportBudget.
	ReportBudget time.Duration
	// SampleAbove is the raw events of a report's period above which its
	// visit rows are read from a sample (reports.Options.SampleAbove);
	// 0 never samples.
	SampleAbove uint64
	// Registry receives every metric; nil: a new one (App.Registry).
	Registry *prometheus.Registry
	// Background runs beside the server (serve's in-process aggregation)
	// from Start; its context ends when the shutdown begins, and it is
	// waited for before the buffer drains.
	Background func(ctx context.Context)
	Log        *slog.Logger
	// Now is the clock of the collector, the enricher and the erasures'
	// receipts; tests inject one. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Config == nil {
		o.Config, _ = config.Parse(nil) // the defaults always parse
	}
	if o.Sink == nil {
		o.Sink = o.Store
	}
	if o.ConsentMaxAge <= 0 {
		o.ConsentMaxAge = 400 * 24 * time.Hour
	}
	if o.ConsentRefresh <= 0 {
		o.ConsentRefresh = 2 * time.Second
	}
	if o.ReportBudget <= 0 {
		o.ReportBudget = ReportBudget
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Enrich.Salts == nil {
		o.Enrich.Salts = o.Store
	}
	if o.Enrich.Log == nil {
		o.Enrich.Log = o.Log
	}
	if o.Enrich.Now == nil {
		o.Enrich.Now = o.Now
	}
	o.Buffer.Log = o.Log
	return o
}

// App is the running product. Its parts are exported for the test rigs,
// which drive them (a paused buffer, a revoked key) in process.
type App struct {
	Handler   http.Handler // every route
	Collector *collector.Collector
	Web       *web.Handler // the scripts
	Buffer    *collector.Buffer
	Consent   *collector.ConsentState
	Erasures  *erasure.Service
	Subjects  *subject.Service
	Enricher  *enrich.Enricher
	Registry  *prometheus.Registry

	opts  Options
	chain *consent.Chain

	// Set by Start, used by Stop.
	stopBackground, stopLoops, stopBuffer context.CancelFunc
	background, loops, writers            sync.WaitGroup
	bufErr                                error
}

// New builds the product over a migrated store: it reads the sites, the
// consent state and the pending erasures, and builds every part. Start
// (or Run) starts its background work.
func New(ctx context.Context, opts Options) (*App, error) {
	opts = opts.withDefaults()
	log := opts.Log
	sites := collector.NewSites(opts.Store, time.Second)
	if err := sites.Load(ctx); err != nil {
		return nil, err
	}
	consentState, err := collector.LoadConsentState(ctx, opts.Store, opts.ConsentMaxAge, opts.ConsentRefresh, log)
	if err != nil {
		return nil, err
	}
	a := &App{opts: opts, Consent: consentState, Registry: opts.Registry, chain: consent.NewChain(uuid.New())}
	metrics := collector.NewMetrics(opts.Registry)
	// Erasures are durable work: pending ones (a withdrawal whose erasure
	// did not finish before a stop) are read now and done by the loop.
	a.Erasures = erasure.New(erasure.Options{
		Store: opts.Store, Settle: func(ctx context.Context) error { return a.Buffer.Settle(ctx) },
		MaxAge: opts.ConsentMaxAge, Registerer: opts.Registry, Log: log,
	})
	if err := a.Erasures.Load(ctx); err != nil {
		return nil, err
	}
	bufOpts := opts.Buffer
	bufOpts.Metrics = metrics
	bufOpts.Discard = func(e *store.Event) bool { return consentState.Revoked(e.ConsentID) || a.Erasures.Covers(e) }
	a.Buffer = collector.NewBuffer(opts.Sink, bufOpts)
	if a.Enricher, err = enrich.New(opts.Enrich); err != nil {
		return nil, err
	}
	// One subject-rights service for the visitor endpoints and the admin API.
	a.Subjects = subject.New(subject.Options{Store: opts.Store, Erasures: a.Erasures, Flush: a.Buffer.Flush, Now: opts.Now})
	a.Collector = collector.New(collector.Options{
		Sites: sites, Config: opts.Config, PolicyVersions: opts.PolicyVersions, Consent: consentState, Ledger: opts.Store, Chain: a.chain,
		Buffer: a.Buffer, Erasures: a.Erasures, Subjects: a.Subjects, Enricher: a.Enricher,
		Metrics: metrics, Log: log, ConsentRate: opts.ConsentRate, Now: opts.Now,
	})
	consentState.OnLearnt(a.Collector.EraseLearnt)
	if a.Handler, err = a.routes(); err != nil {
		a.Enricher.Close()
		return nil, err
	}
	return a, nil
}

// routes builds the web parts over the collector and the one router.
func (a *App) routes() (http.Handler, error) {
	o := a.opts
	scripts, err := web.New(web.Options{Events: a.Collector, Log: o.Log})
	if err != nil {
		return nil, err
	}
	a.Web = scripts
	board, err := dashboard.New()
	if err != nil {
		return nil, err
	}
	shares, err := share.New(share.Options{Store: o.Store, Config: o.Config, PublicURL: o.PublicURL, TrustedProxies: o.TrustedProxies,
		Log: o.Log, Metrics: o.Registry})
	if err != nil {
		return nil, err
	}
	return server.New(server.Options{
		Admin:     admin.New(admin.Options{Store: o.Store, Links: a.Consent.Links(), Subjects: a.Subjects, PublicURL: o.PublicURL, Goals: o.Config.SiteGoals, Now: o.Now}),
		Auth:      auth.New(auth.Options{Store: o.Store, TrustedProxies: o.TrustedProxies, Audit: o.Store, Log: o.Log}),
		Collector: a.Collector,
		Web:       scripts,
		Dashboard: board,
		Share:     shares,
		Reports:   reports.New(reports.Options{Store: o.Store, Config: o.Config, Budget: o.ReportBudget, Metrics: o.Registry, SampleAbove: o.SampleAbove}),
		Store:     o.Store,
		Ready:     a.ready,
		// Ready decides; the store's state is its own signal.
		StoreWritable: a.Buffer.StoreWritable,
		Unsubscribe:   unsubscribe.New(o.Store, o.Log),
		Log:           o.Log,
	}), nil
}

// ready is /readyz: not ready while the spool cannot take what the queue
// cannot hold.
func (a *App) ready() error {
	err := a.Buffer.Ready()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, spool.ErrFull):
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "spool full", Err: err}
	default:
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "spool unwritable", Err: err}
	}
}

// Start starts the background work: the buffer's writer and the enricher
// (which outlive the HTTP server: they stop only after the last request
// has handed over its events), the consent refresher, the erasure loop,
// the checkpoints and Options.Background. Each runs on a context of its
// own, not ctx's cancellation: Stop ends them in order.
func (a *App) Start(ctx context.Context) {
	base := context.WithoutCancel(ctx)
	var bufCtx, loopCtx, bgCtx context.Context
	bufCtx, a.stopBuffer = context.WithCancel(base)
	loopCtx, a.stopLoops = context.WithCancel(base)
	bgCtx, a.stopBackground = context.WithCancel(base)
	a.writers.Go(func() { a.bufErr = a.Buffer.Run(bufCtx) })
	a.writers.Go(func() { a.Enricher.Run(bufCtx) })
	// The consent state and the erasure loop stop before the buffer: an
	// erasure waits for the buffer's write under way. What they leave
	// undone stays recorded for the next start.
	a.loops.Go(func() { a.Consent.Run(loopCtx) })
	a.loops.Go(func() { a.Erasures.Run(loopCtx) })
	if c := a.opts.Checkpoints; c != nil {
		a.loops.Go(func() { c.Run(loopCtx, a.chain, a.opts.CheckpointEvery, time.Now, a.opts.Log) })
	}
	if bg := a.opts.Background; bg != nil {
		a.background.Go(func() { bg(bgCtx) })
	}
}

// Stop ends what Start started, in order, by the deadline: the background
// work, the consent and erasure loops; a last attempt at the pending
// erasures; the buffer's drain (cut off and spooled at by if the store
// hangs). Then it closes what New opened. Call it once no request is
// under way (Run does, after the HTTP server's shutdown).
func (a *App) Stop(by time.Time) error {
	if a.stopBuffer == nil { // never started
		a.close()
		return nil
	}
	a.stopBackground() // a pass under way ends now; it is redone at the next start
	a.background.Wait()
	a.stopLoops()
	a.loops.Wait()
	ctx, cancel := context.WithDeadline(context.Background(), by) // fresh: never the context just cancelled
	defer cancel()
	a.Erasures.Drain(ctx) // within the shutdown's deadline
	a.Buffer.StopBy(by)
	a.stopBuffer()
	a.writers.Wait()
	a.close()
	return a.bufErr
}

// close closes what New opened and was handed to own.
func (a *App) close() {
	a.Enricher.Close() // after the HTTP server stopped: it unmaps the geo databases
	if a.opts.Checkpoints != nil {
		a.opts.Checkpoints.Close()
	}
}

// Listeners are where Run serves: the product on Addr, and GET /metrics
// on Metrics (nil: none), apart so that publishing one never publishes
// the other.
type Listeners struct {
	Addr, Metrics net.Listener
}

// Run starts the product and serves it until ctx ends or a server fails,
// then shuts it down in order within timeout: the HTTP servers stop
// accepting and finish their requests, then Stop.
func (a *App) Run(ctx context.Context, ls Listeners, timeout time.Duration) error {
	errorLog := slog.NewLogLogger(a.opts.Log.Handler(), slog.LevelWarn)
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          errorLog,
	}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ls.Addr}
	if ls.Metrics != nil {
		servers = append(servers, &http.Server{
			Handler:           server.NewMetrics(a.Registry),
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			ErrorLog:          errorLog,
		})
		listeners = append(listeners, ls.Metrics)
	}
	a.Start(ctx)
	failed := make(chan struct{}, len(servers))
	errs := make([]error, len(servers))
	var serving sync.WaitGroup
	for i, s := range servers {
		serving.Go(func() {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errs[i] = err
				failed <- struct{}{}
			}
		})
	}
	select {
	case <-ctx.Done():
		a.opts.Log.Info("shutting down", "queued_events", a.Buffer.Len())
	case <-failed:
	}
	// One deadline for the whole shutdown: requests, the buffer's write
	// under way (cut off and spooled if the store hangs), and the drain.
	by := time.Now().Add(timeout)
	shutCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), by)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil {
			a.opts.Log.Warn("http shutdown", "err", err)
		}
	}
	serving.Wait()
	if err := a.Stop(by); err != nil {
		return err
	}
	if errs[0] != nil {
		return fmt.Errorf("serve: %w", errs[0])
	}
	if len(errs) > 1 && errs[1] != nil {
		return fmt.Errorf("serve metrics: %w", errs[1])
	}
	return nil
}
