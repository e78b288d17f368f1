package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
)

// defaultAggregateEvery is how often serve aggregates on the embedded
// store: a newcomer's first visits reach the dashboard within minutes.
const defaultAggregateEvery = 5 * time.Minute

// aggregateSchedule is serve's -aggregate-every: auto, off, or an interval.
// auto aggregates on the embedded store only: on ClickHouse several
// collectors share one store, and one footfall aggregate per store runs
// beside them (the compose file's aggregator service).
type aggregateSchedule struct {
	auto  bool
	every time.Duration // 0: off
}

func (a *aggregateSchedule) String() string {
	switch {
	case a.auto:
		return "auto"
	case a.every == 0:
		return "off"
	}
	return a.every.String()
}

func (a *aggregateSchedule) Set(s string) error {
	switch strings.TrimSpace(s) {
	case "auto":
		*a = aggregateSchedule{auto: true}
		return nil
	case "off", "0":
		*a = aggregateSchedule{}
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want auto, off or an interval such as 5m")
	}
	*a = aggregateSchedule{every: d}
	return nil
}

func (a *aggregateSchedule) check() []error {
	if !a.auto && a.every != 0 && (a.every < time.Second || a.every > 24*time.Hour) {
		return []error{fmt.Errorf("-aggregate-every: want auto, off, or 1s to 24h, got %s", a.every)}
	}
	return nil
}

// interval is how often serve aggregates on store t; 0 means never.
func (a *aggregateSchedule) interval(t storeTarget) time.Duration {
	if a.auto {
		if t.clickhouse == nil {
			return defaultAggregateEvery
		}
		return 0
	}
	return a.every
}

// aggregateEvery runs what footfall aggregate -every runs until ctx ends:
// a pass now and one per interval, each followed by the configured
// retention and then by more, if set (the partners' scheduled exports).
// Failed passes are logged and retried at the next interval.
func aggregateEvery(ctx context.Context, agg *aggregator.Aggregator, st retainer, retention config.Retention, every time.Duration, log *slog.Logger, more func(context.Context) error) error {
	return agg.Every(ctx, every, func(ctx context.Context) error {
		if _, err := enforceRetention(ctx, st, retention, time.Now(), false, log); err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if more == nil {
			return nil
		}
		return more(ctx)
	})
}
