package collector

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collector's counters, registered on a registry of the
// caller's (no global registry, so tests and replicas in one process stay
// apart).
type Metrics struct {
	accepted prometheus.Counter
	dropped  *prometheus.CounterVec
	consents *prometheus.CounterVec
	erased   prometheus.Counter
	bots     *prometheus.CounterVec
	noSalt   prometheus.Counter
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
		erased: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_erased_total",
			Help: "Raw events erased on a visitor's withdrawal or request.",
		}),
		bots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "footfall_bot_events_total",
			Help: "Consented events flagged as bots (stored, not counted as visits), by reason.",
		}, []string{"reason"}),
		noSalt: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_events_without_visitor_key_total",
			Help: "Events stored without a visitor key because the daily salt could not be read or created.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.dropped, m.consents, m.erased, m.bots, m.noSalt)
	}
	return m
}
