package collector

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/collector/spool"
)

// Metrics are the collector's counters, registered on a registry of the
// caller's (no global registry, so tests and replicas in one process stay
// apart).
type Metrics struct {
	accepted prometheus.Counter
	dropped  *prometheus.CounterVec
	consents *prometheus.CounterVec
	bots     *prometheus.CounterVec
	noSalt   prometheus.Counter
	exempt   prometheus.Counter
	limited  prometheus.Counter
	ingest   *ingestMetrics
	// busy summarises refused beacons in the log.
	busy busyLog
}

// NewMetrics registers the collector's metrics on reg; nil reg keeps them
// unregistered (tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_accepted_total",
			Help: "Events accepted for storage.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "footfall_events_dropped_total",
			Help: "Events not stored, by reason (no_token, expired, withdrawn, no_analytics, bot, invalid, busy, ...).",
		}, []string{"reason"}),
		consents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "footfall_consent_decisions_total",
			Help: "Consent decisions appended to the ledger, by action.",
		}, []string{"action"}),
		bots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "footfall_bot_events_total",
			Help: "Consented events flagged as bots (stored, not counted as visits), by reason.",
		}, []string{"reason"}),
		noSalt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_without_visitor_key_total",
			Help: "Events stored without a visitor key because the daily salt could not be read or created.",
		}),
		exempt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_exempt_total",
			Help: "Events counted without consent on consent-exempt sites (no cookie, no IP; also in accepted).",
		}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_consent_rate_limited_total",
			Help: "Consent decisions refused (429) because their client sent too many (-consent-rate).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.dropped, m.consents, m.bots, m.noSalt, m.exempt, m.limited)
	}
	m.ingest = newIngestMetrics(reg)
	return m
}

// ingestMetrics show the way from an accepted event to the store: the
// queue, the batches and their writes, and the disk spool.
type ingestMetrics struct {
	batchSize   prometheus.Histogram
	writeTime   prometheus.Histogram
	storeErrors prometheus.Counter
	storeUp     prometheus.Gauge
	stored      prometheus.Counter
	discarded   prometheus.Counter
	spooled     *prometheus.CounterVec
	replayed    prometheus.Counter

	// buffer is the Buffer whose queue and spool the gauges read: the last
	// one built with these metrics.
	buffer atomic.Pointer[Buffer]
}

// Reasons an event goes to the spool, the label of footfall_events_spooled_total.
const (
	spoolStoreDown = "store_unavailable" // a write failed, or the store is in its retry backoff
	spoolQueueFull = "queue_full"        // the in-memory queue was full when the event was accepted
	spoolDurable   = "durable"           // -durability=fsync: every event goes through the spool
	spoolShutdown  = "shutdown"          // the store could not take the last batch at shutdown
)

func newIngestMetrics(reg prometheus.Registerer) *ingestMetrics {
	m := &ingestMetrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "footfall_store_batch_events",
			Help:    "Events per write to the store (live batches and spool replays).",
			Buckets: []float64{1, 10, 100, 1000, 5000, 10000, 20000, 50000, 100000},
		}),
		writeTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "footfall_store_write_seconds",
			Help:    "Duration of one write of a batch to the store, failed ones included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1ms to ~60s
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_store_write_errors_total",
			Help: "Failed writes of a batch to the store (each failed batch is spooled or retried).",
		}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "footfall_store_writable",
			Help: "1 if the last write to the store succeeded, 0 while it fails (events go to the spool).",
		}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_stored_total",
			Help: "Events written to the store, directly or replayed from the spool (a replay after a crash may count an event twice; the store keeps it once).",
		}),
		discarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_discarded_total",
			Help: "Accepted events not written because their consent was withdrawn before the write.",
		}),
		spooled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "footfall_events_spooled_total",
			Help: "Events written to the disk spool, by reason (store_unavailable, queue_full, durable, shutdown).",
		}, []string{"reason"}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_replayed_total",
			Help: "Events read back from the disk spool and written to the store.",
		}),
	}
	m.storeUp.Set(1)
	for _, r := range []string{spoolStoreDown, spoolQueueFull, spoolDurable, spoolShutdown} {
		m.spooled.WithLabelValues(r)
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.batchSize, m.writeTime, m.storeErrors, m.storeUp, m.stored, m.discarded, m.spooled, m.replayed)
	gauge := func(name, help string, f func(b *Buffer) float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			if b := m.buffer.Load(); b != nil {
				return f(b)
			}
			return 0
		}))
	}
	counter := func(name, help string, f func(st spool.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			if b := m.buffer.Load(); b != nil && b.opts.Spool != nil {
				return float64(f(b.opts.Spool.Stats()))
			}
			return 0
		}))
	}
	spoolGauge := func(name, help string, f func(st spool.Stats) float64) {
		gauge(name, help, func(b *Buffer) float64 {
			if b.opts.Spool == nil {
				return 0
			}
			return f(b.opts.Spool.Stats())
		})
	}
	gauge("footfall_queue_depth", "Accepted events waiting in memory for the writer, the batch being written included.", func(b *Buffer) float64 { return float64(b.Len()) })
	gauge("footfall_inflight_events", "Events in the write to the store under way (a live batch or a spool replay): accepted, not yet acknowledged.", func(b *Buffer) float64 { return float64(b.InFlight()) })
	gauge("footfall_queue_capacity", "Events the in-memory queue holds before new ones go to the spool.", func(b *Buffer) float64 { return float64(cap(b.queue)) })
	spoolGauge("footfall_spool_bytes", "Size of the disk spool's segment files.", func(st spool.Stats) float64 { return float64(st.Bytes) })
	spoolGauge("footfall_spool_pending_bytes", "Spool bytes not yet replayed into the store.", func(st spool.Stats) float64 { return float64(st.PendingBytes) })
	spoolGauge("footfall_spool_segments", "Segment files in the disk spool.", func(st spool.Stats) float64 { return float64(st.Segments) })
	gauge("footfall_spool_max_bytes", "Size limit of the disk spool (-spool-max-bytes).", func(b *Buffer) float64 {
		if b.opts.Spool == nil {
			return 0
		}
		return float64(b.opts.Spool.MaxBytes())
	})
	counter("footfall_spool_corrupt_records_total", "Spool records lost to damage (torn tail after a crash, bad checksum), counted by the record frames in each damaged stretch.", func(st spool.Stats) uint64 { return st.Corrupt })
	counter("footfall_spool_corrupt_bytes_total", "Bytes of damaged spool stretches skipped during replays (a damaged segment header included).", func(st spool.Stats) uint64 { return st.CorruptBytes })
	counter("footfall_spool_write_errors_total", "Failed writes and fsyncs of the disk spool.", func(st spool.Stats) uint64 { return st.WriteErrors })
	return m
}

// busyLogInterval is the least time between two log lines about beacons
// refused for overload.
const busyLogInterval = 10 * time.Second

// busyLog summarises the beacons refused because neither the queue nor the
// spool could take them: under overload that is every request, and a log
// line each would add to the overload. The first refusal is logged at
// once; later ones are counted and logged busyLogInterval after the
// previous line, by a timer (not only when another refusal comes), as one
// WARN line with the counts since. footfall_events_dropped_total{reason="busy"}
// is exact at any time.
type busyLog struct {
	mu       sync.Mutex
	next     time.Time // no line before this
	events   int       // refused since the last line
	requests int
	log      *slog.Logger
	err      error       // the latest reason
	timer    *time.Timer // writes the pending summary; nil when none is due
}

// note counts a refused request of events events, and logs the summary
// when it is due. err is the buffer's reason (queue and spool state, never
// anything of the request).
func (l *busyLog) note(log *slog.Logger, now time.Time, events int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events += events
	l.requests++
	l.log, l.err = log, err
	if now.Before(l.next) {
		if l.timer == nil {
			l.timer = time.AfterFunc(l.next.Sub(now), l.due)
		}
		return
	}
	l.writeLocked(now)
}

// due writes the summary the interval held back.
func (l *busyLog) due() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if l.events > 0 {
		l.writeLocked(l.next)
	}
}

func (l *busyLog) writeLocked(now time.Time) {
	// The reason is in err: the queue and the spool full, the spool's disk
	// full, or (with -durability=fsync) the spool alone.
	l.log.Warn("refusing beacons (counts since the last such line)", "events", l.events, "requests", l.requests, "err", l.err)
	l.events, l.requests = 0, 0
	l.next = now.Add(busyLogInterval)
}
