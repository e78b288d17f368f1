package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/footfall/footfall/store"
)

func migrateCommand() *command {
	c, common := storeCommand(&command{
		name:    "migrate",
		summary: "Apply pending schema migrations to the store. Creates the ClickHouse database if needed. Safe to re-run.",
		flags:   flag.NewFlagSet("migrate", flag.ContinueOnError),
	})
	c.run = func(ctx context.Context, env *runEnv, _ []string) error {
		log := common.logger(env.stderr)
		t, _ := parseStore(common.store)
		st, err := openStore(ctx, t, true, common.storeWait, log)
		if err != nil {
			return err
		}
		defer st.Close()
		applied, err := st.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, m := range applied {
			fmt.Fprintf(env.stdout, "applied %03d_%s\n", m.Version, m.Name)
		}
		fmt.Fprintf(env.stdout, "%s is up to date (%d migrations applied now)\n", t.describe(), len(applied))
		return nil
	}
	return c
}

func siteAddCommand() *command {
	c, common := storeCommand(&command{
		name:    "site add",
		args:    "DOMAIN",
		summary: "Register a website so the collector accepts its events. DOMAIN is the host name the snippet sends as data-site, such as example.com.",
		flags:   flag.NewFlagSet("site add", flag.ContinueOnError),
	})
	c.check = func(args []string) []error {
		errs := common.check()
		if len(args) != 1 {
			return append(errs, fmt.Errorf("want exactly one DOMAIN, got %d arguments", len(args)))
		}
		if _, err := store.NormalizeDomain(args[0]); err != nil {
			errs = append(errs, err)
		}
		return errs
	}
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, args []string) error {
		domain, _ := store.NormalizeDomain(args[0])
		site, err := st.AddSite(ctx, domain)
		if errors.Is(err, store.ErrSiteExists) {
			return fmt.Errorf("site %s is already registered", domain)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "added site %s (id %d)\n", site.Domain, site.ID)
		return audit(ctx, st, "cli", "site_add", site.Domain, map[string]any{"id": site.ID})
	})
	return c
}

func siteListCommand() *command {
	c, common := storeCommand(&command{
		name:    "site list",
		summary: "List the registered websites.",
		flags:   flag.NewFlagSet("site list", flag.ContinueOnError),
	})
	c.run = common.withStore(func(ctx context.Context, env *runEnv, st backend, _ []string) error {
		sites, err := st.Sites(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DOMAIN\tID\tADDED")
		for _, s := range sites {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", s.Domain, s.ID, s.CreatedAt.Format("2006-01-02"))
		}
		return tw.Flush()
	})
	return c
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "Print the version of this binary.",
		flags:   flag.NewFlagSet("version", flag.ContinueOnError),
		check:   noArgs,
		run: func(_ context.Context, env *runEnv, _ []string) error {
			fmt.Fprintf(env.stdout, "footfall %s\n", version)
			return nil
		},
	}
}

func noArgs(args []string) []error {
	if len(args) > 0 {
		return []error{fmt.Errorf("unexpected arguments: %q", args)}
	}
	return nil
}
