package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// retentionPlan turns the configured keeping times into cutoffs at now.
func retentionPlan(r config.Retention, now time.Time) store.RetentionPlan {
	day := 24 * time.Hour
	now = now.UTC()
	return store.RetentionPlan{
		EventsBefore: now.Add(-time.Duration(r.RawEventsDays) * day),
		IPBefore:     now.Add(-time.Duration(r.RawIPDays) * day),
		LedgerBefore: now.Add(-time.Duration(r.ConsentLedgerDays) * day),
	}
}

// retainer is the part of a store that enforces retention.
type retainer interface {
	ApplyRetention(ctx context.Context, plan store.RetentionPlan, dryRun bool) (store.RetentionResult, error)
}

// enforceRetention applies the configured retention at now and logs what it
// did (or, in a dry run, would do).
func enforceRetention(ctx context.Context, st retainer, r config.Retention, now time.Time, dryRun bool, log *slog.Logger) (store.RetentionResult, error) {
	plan := retentionPlan(r, now)
	res, err := st.ApplyRetention(ctx, plan, dryRun)
	if err != nil {
		return res, err
	}
	log.Info("retention", "dry_run", dryRun,
		"events_before", plan.EventsBefore.Format(time.RFC3339), "events_deleted", res.Events, "visits_deleted", res.Visits,
		"ips_before", plan.IPBefore.Format(time.RFC3339), "ips_cleared", res.IPs,
		"ledger_before", plan.LedgerBefore.Format(time.RFC3339), "ledger_records_deleted", res.LedgerRecords)
	return res, nil
}

func retentionCommand() *command {
	var cfg configFlag
	var dryRun bool
	c, common := storeCommand(&command{
		name: "retention",
		summary: "Enforce the configured retention now: delete raw events and consent ledger records past their keeping time and clear raw IPs past theirs " +
			"(defaults 13 months, 5 years, 30 days). With -dry-run, only count. footfall aggregate -every runs it too.",
		flags: flag.NewFlagSet("retention", flag.ContinueOnError),
	})
	cfg.register(c.flags, " (its retention section)")
	c.flags.BoolVar(&dryRun, "dry-run", false, "count what would be removed, remove nothing")
	c.check = func(args []string) []error { return append(append(common.check(), noArgs(args)...), cfg.check()...) }
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		conf, err := cfg.load()
		if err != nil {
			return err
		}
		res, err := enforceRetention(ctx, st, conf.Retention, time.Now(), dryRun, common.logger(env.stderr))
		if err != nil {
			return err
		}
		verb := "removed"
		if dryRun {
			verb = "would remove"
		}
		fmt.Fprintf(env.stdout, "%s %d raw events, %d raw IPs, %d consent ledger records\n", verb, res.Events, res.IPs, res.LedgerRecords)
		if dryRun {
			return nil
		}
		return audit(ctx, st, "cli", "retention", "", res)
	})
	return c
}
