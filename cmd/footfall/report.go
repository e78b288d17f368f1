package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/store"
)

// reportFlags are footfall report's settings: the stats API's parameters
// as flags.
type reportFlags struct {
	common commonFlags
	config configFlag
	site   string
	format string
	params map[string]*string
	// sampleAbove is serve's -sample-above, so a report here answers as
	// the API does.
	sampleAbove uint64
}

func reportCommand() *command {
	r := reportFlags{params: map[string]*string{}}
	c := &command{
		name: "report",
		args: "aggregate|timeseries|breakdown|funnel",
		summary: "Print a report to stdout as CSV or JSON: the same planner, parameters and answers as GET /api/v1/stats/aggregate, " +
			"timeseries, breakdown and funnel (docs/reports.md). Example: footfall report breakdown -site example.com -period 7d -property source -filters 'country==DE'.",
		flags: flag.NewFlagSet("report", flag.ContinueOnError),
	}
	r.common.register(c.flags)
	r.config.register(c.flags, " (site time zones; default: UTC)")
	c.flags.StringVar(&r.site, "site", "", "`domain` of the site (required)")
	c.flags.StringVar(&r.format, "format", "csv", "output `format`: csv or json")
	c.flags.Uint64Var(&r.sampleAbove, "sample-above", 0, "as footfall serve -sample-above: read the visit rows from a sample when the period holds more than this many raw `events` (ClickHouse only; the JSON says \"sampled\"); 0, the default, never samples")
	usage := map[string]string{
		"period":   "`period`: day, 7d, 30d, month, 12mo or custom (default 30d)",
		"date":     "anchor `date` of the period, YYYY-MM-DD (default today)",
		"from":     "first `date` with -period custom",
		"to":       "last `date` (inclusive) with -period custom",
		"metrics":  "comma-separated `metrics`: visitors, visits, pageviews, events, bounce_rate, visit_duration, engaged_time (default visitors,pageviews)",
		"filters":  "`filters` dim==v, dim!=v or dim~v, separated by ';' (combined with AND)",
		"compare":  "aggregate: previous_period adds the previous period and the change in %",
		"interval": "timeseries: `interval` hour, day, week or month (default by the period's length)",
		"property": "breakdown: the `dimension` to break down by (required there)",
		"limit":    "breakdown: values per page (default 100)",
		"page":     "breakdown: page `number` (default 1)",
		"funnel":   "funnel: the `name` of one of the site's funnels (config: sites[].funnels; required there)",
	}
	for _, name := range []string{"period", "date", "from", "to", "metrics", "filters", "compare", "interval", "property", "limit", "page", "funnel"} {
		r.params[name] = c.flags.String(name, "", usage[name])
	}
	c.check = func(args []string) []error {
		errs := r.common.check()
		if len(args) != 1 || report.Params[report.Kind(args[0])] == nil {
			errs = append(errs, errors.New("want one argument: aggregate, timeseries, breakdown or funnel"))
		} else {
			for name, v := range r.params {
				if *v != "" && !slices.Contains(report.Params[report.Kind(args[0])], name) {
					errs = append(errs, fmt.Errorf("-%s: not a setting of %s", name, args[0]))
				}
			}
		}
		if r.site == "" {
			errs = append(errs, errors.New("-site: required"))
		}
		if r.format != "csv" && r.format != "json" {
			errs = append(errs, fmt.Errorf("-format: want csv or json, got %q", r.format))
		}
		return append(errs, r.config.check()...)
	}
	c.run = func(ctx context.Context, env *runEnv, args []string) error {
		return runReport(ctx, env, r, report.Kind(args[0]))
	}
	return c
}

func runReport(ctx context.Context, env *runEnv, r reportFlags, kind report.Kind) error {
	cfg, err := r.config.load()
	if err != nil {
		return err
	}
	domain, err := store.NormalizeDomain(r.site)
	if err != nil {
		return fmt.Errorf("-site: %w", err)
	}
	loc, err := store.LoadZone(cfg.SiteZone(domain))
	if err != nil {
		return err
	}
	st, err := openForAggregation(ctx, env, r.common)
	if err != nil {
		return err
	}
	defer st.Close()
	site, err := st.SiteByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("site %s is not registered (footfall site add %s)", domain, domain)
	}
	if err != nil {
		return err
	}
	params := map[string]string{}
	for name, v := range r.params {
		params[name] = *v
	}
	q, err := report.ParseQuery(kind, params, site, loc, time.Now())
	if err != nil {
		return err
	}
	planner, ok := st.(report.Store)
	goals, ok2 := st.(interface {
		Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error)
	})
	if !ok || !ok2 {
		return errors.New("this store answers no reports")
	}
	stored, err := goals.Goals(ctx, site.ID)
	if err != nil {
		return err
	}
	q.Goals = store.MergeGoals(cfg.SiteGoals(domain), stored)
	q.Funnels = cfg.SiteFunnels(domain)
	res, err := report.New(planner, nil).WithSampling(r.sampleAbove).Run(ctx, q)
	if err != nil {
		return err
	}
	if r.format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res.JSON())
	}
	header, records := res.Table()
	return report.WriteCSV(env.stdout, header, records)
}
