package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/footfall/footfall/aggregator"
)

type exportFlags struct {
	common   commonFlags
	config   configFlag
	partner  string
	from, to string
	out      string
	format   string
}

func exportCommand() *command {
	var e exportFlags
	c := &command{
		name: "export",
		summary: "Write a partner's anonymised aggregates of the days -from to -to (inclusive) to -out: one file per dimension and manifest.json " +
			"(window, parameters, row counts, SHA-256 checksums, schema version). Every cell covers at least the partner's k visitors, " +
			"GPC visitors are left out, and counts are noised when the partner has an epsilon. Reads the raw events, so only days within retention.",
		flags: flag.NewFlagSet("export", flag.ContinueOnError),
	}
	e.common.register(c.flags)
	e.config.register(c.flags, " that lists the partner (required)")
	c.flags.StringVar(&e.partner, "partner", "", "`name` of the partner in the config file (required)")
	c.flags.StringVar(&e.from, "from", "", "first `date` (YYYY-MM-DD, in each site's time zone) (required)")
	c.flags.StringVar(&e.to, "to", "", "last `date` (YYYY-MM-DD, inclusive) (required)")
	c.flags.StringVar(&e.out, "out", "", "`dir` to write the files to; created if missing (required)")
	c.flags.StringVar(&e.format, "format", aggregator.FormatCSV, "file `format`: csv or jsonl")
	c.check = func(args []string) []error {
		errs := append(e.common.check(), noArgs(args)...)
		errs = append(errs, checkDates(e.from, e.to)...)
		if e.out == "" {
			errs = append(errs, errors.New("-out: required"))
		}
		if e.format != aggregator.FormatCSV && e.format != aggregator.FormatJSONL {
			errs = append(errs, fmt.Errorf("-format: want csv or jsonl, got %q", e.format))
		}
		switch {
		case e.config.path == "":
			errs = append(errs, errors.New("-config: required (partners are configured there)"))
		case e.partner == "":
			errs = append(errs, errors.New("-partner: required"))
		default:
			cfg, err := e.config.load()
			if err != nil {
				errs = append(errs, fmt.Errorf("-config: %w", err))
			} else if _, ok := cfg.Partner(e.partner); !ok {
				errs = append(errs, fmt.Errorf("-partner: no partner %q in %s", e.partner, e.config.path))
			}
		}
		return errs
	}
	c.run = func(ctx context.Context, env *runEnv, _ []string) error { return export(ctx, env, e) }
	return c
}

func export(ctx context.Context, env *runEnv, e exportFlags) error {
	cfg, err := e.config.load()
	if err != nil {
		return err
	}
	p, _ := cfg.Partner(e.partner) // checked
	from, _ := time.Parse(time.DateOnly, e.from)
	to, _ := time.Parse(time.DateOnly, e.to)
	st, err := openForAggregation(ctx, env, e.common)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: from, To: to, Zone: cfg.SiteZone,
		Goals: cfg.SiteGoals, Funnels: cfg.SiteFunnels})
	if err != nil {
		return err
	}
	m, err := aggregator.WriteExport(e.out, r, e.format)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "wrote %d rows in %d files and manifest.json to %s\n", m.Rows, len(m.Files), e.out)
	return audit(ctx, st, "cli", "export", p.Name, map[string]any{"from": e.from, "to": e.to, "rows": m.Rows, "files": len(m.Files)})
}
