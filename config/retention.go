package config

import "fmt"

// Retention is how long each class of data is kept, in days. Published
// aggregates are kept.
type Retention struct {
	// RawEventsDays keeps raw events (default 395, 13 months).
	RawEventsDays int `yaml:"raw_events_days"`
	// RawIPDays keeps the raw IP column (default 30); after it the column is
	// cleared and the rest of the row stays.
	RawIPDays int `yaml:"raw_ip_days"`
	// ConsentLedgerDays keeps consent ledger records (default 1826, 5 years).
	ConsentLedgerDays int `yaml:"consent_ledger_days"`
}

func (r *Retention) validate() []error {
	var errs []error
	for _, f := range []struct {
		name     string
		v        *int
		def, max int
	}{
		{"raw_events_days", &r.RawEventsDays, 395, 3660},
		{"raw_ip_days", &r.RawIPDays, 30, 3660},
		{"consent_ledger_days", &r.ConsentLedgerDays, 1826, 3660},
	} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 1 || *f.v > f.max {
			errs = append(errs, fmt.Errorf("config: retention.%s: want 1 to %d, got %d", f.name, f.max, *f.v))
		}
	}
	if r.RawIPDays > r.RawEventsDays {
		errs = append(errs, fmt.Errorf("config: retention.raw_ip_days (%d) is longer than raw_events_days (%d)", r.RawIPDays, r.RawEventsDays))
	}
	return errs
}
