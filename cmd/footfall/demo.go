package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/store"
)

// demoDays is how much traffic -demo generates: two months, so that the
// dashboard's default period (30 days) has a full previous period to
// compare with.
const demoDays = 60

// demoAdmin is the e-mail address of the user serve -demo creates.
const demoAdmin = "admin@demo.footfall.test"

// seedDemo is serve -demo: it fills the store with two generated months of
// aggregator.DemoDomain (only when that site has no data yet), aggregates
// it once, and (re)creates an admin user with a fresh random password,
// printed to stderr with the address to sign in at.
func seedDemo(ctx context.Context, st backend, stderr io.Writer, addr string, log *slog.Logger) error {
	site, err := st.SiteByDomain(ctx, aggregator.DemoDomain)
	if errors.Is(err, store.ErrNotFound) {
		site, err = st.AddSite(ctx, aggregator.DemoDomain)
	}
	if err != nil {
		return fmt.Errorf("demo site: %w", err)
	}
	_, err = st.FirstActivity(ctx, site.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		events, records := aggregator.DemoData(site.ID, time.Now(), demoDays, uint64(time.Now().UnixNano()))
		log.Info("demo: generating two months of data", "site", site.Domain, "events", len(events))
		for batch := range slices.Chunk(events, 20000) {
			if err := st.InsertEvents(ctx, batch); err != nil {
				return fmt.Errorf("demo events: %w", err)
			}
		}
		slices.SortFunc(records, func(a, b store.ConsentRecord) int { return a.Time.Compare(b.Time) })
		chain := consent.NewChain(uuid.New())
		for i := range records {
			if err := chain.Append(&records[i], func(r *store.ConsentRecord) error { return st.AppendConsent(ctx, *r) }); err != nil {
				return fmt.Errorf("demo consent: %w", err)
			}
		}
	case err != nil:
		return fmt.Errorf("demo site: %w", err)
	default:
		log.Info("demo: the demo site has data already; not generating more", "site", site.Domain)
	}
	sum, err := aggregator.New(aggregator.Options{Store: st, Log: log}).Once(ctx)
	if err != nil {
		return fmt.Errorf("demo aggregation: %w", err)
	}
	log.Info("demo: aggregated", "windows", sum.Windows, "failed", sum.Failed)

	if u, err := st.UserByEmail(ctx, demoAdmin); err == nil {
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			return fmt.Errorf("demo admin: %w", err)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("demo admin: %w", err)
	}
	password, err := addAdmin(ctx, st, demoAdmin)
	if err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	fmt.Fprintf(stderr, "\nFootfall demo: open http://%s/ and sign in as\n  e-mail:   %s\n  password: %s\n(site %s; the password changes with every -demo start)\n\n",
		addr, demoAdmin, password, aggregator.DemoDomain)
	return nil
}
