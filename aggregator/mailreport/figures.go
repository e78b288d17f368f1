package mailreport

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/store"
)

// Metrics are the key figures of a report, in order.
var Metrics = []string{"visitors", "visits", "pageviews", "bounce_rate", "visit_duration"}

// TopN is how many pages and sources a report lists.
const TopN = 10

// Figures is what one report says: the period's key figures, top pages and
// top sources (by visitors), each against the previous period, all from
// the report planner.
type Figures struct {
	Site             string
	Schedule         string // daily, weekly or monthly
	From, To         string // the period's days, inclusive
	PrevFrom, PrevTo string // the previous period's
	Metrics          []Figure
	TopPages         []Entry
	TopSources       []Entry
}

// Figure is one key figure: counts as uint64, bounce_rate in percent and
// visit_duration in seconds as float64, as the planner answers them.
type Figure struct {
	Name            string
	Value, Previous any
	Change          *float64 // percent; nil when Previous is 0
}

// Entry is a page or source with its visitors.
type Entry struct {
	Key                string
	Visitors, Previous uint64
	Change             *float64
}

// PreviousPeriod is the period before p of the same schedule: the day,
// Monday-to-Sunday week or calendar month before it.
func PreviousPeriod(schedule string, p aggregator.Period) (aggregator.Period, error) {
	return aggregator.LastPeriod(schedule, p.From)
}

// Build asks the planner for the figures of a site's period (days in loc).
func Build(ctx context.Context, pl *report.Planner, site store.Site, loc *time.Location, schedule string, p aggregator.Period) (*Figures, error) {
	prev, err := PreviousPeriod(schedule, p)
	if err != nil {
		return nil, err
	}
	day := func(t time.Time) string { return t.Format(time.DateOnly) }
	f := &Figures{Site: site.Domain, Schedule: schedule, From: day(p.From), To: day(p.To), PrevFrom: day(prev.From), PrevTo: day(prev.To)}
	cur, err := runPair(ctx, pl, site, loc, f.From, f.To, f.PrevFrom, f.PrevTo)
	if err != nil {
		return nil, err
	}
	for i, m := range Metrics {
		v, pv := cur.agg.Rows[0].Values[i], cur.prevAgg.Rows[0].Values[i]
		f.Metrics = append(f.Metrics, Figure{Name: m, Value: v, Previous: pv, Change: report.Change(report.Float(v), report.Float(pv))})
	}
	f.TopPages = entries(cur.pages, cur.prevPages)
	f.TopSources = entries(cur.sources, cur.prevSources)
	return f, nil
}

// pair is the planner's answers for a period and the one before.
type pair struct {
	agg, prevAgg, pages, prevPages, sources, prevSources *report.Result
}

func runPair(ctx context.Context, pl *report.Planner, site store.Site, loc *time.Location, from, to, prevFrom, prevTo string) (pair, error) {
	var out pair
	for _, q := range []struct {
		dst      **report.Result
		from, to string
		kind     report.Kind
		property string
		limit    int
	}{
		{&out.agg, from, to, report.Aggregate, "", 0},
		{&out.prevAgg, prevFrom, prevTo, report.Aggregate, "", 0},
		{&out.pages, from, to, report.Breakdown, store.DimPage, TopN},
		{&out.prevPages, prevFrom, prevTo, report.Breakdown, store.DimPage, report.MaxLimit},
		{&out.sources, from, to, report.Breakdown, store.DimReferrerHost, TopN},
		{&out.prevSources, prevFrom, prevTo, report.Breakdown, store.DimReferrerHost, report.MaxLimit},
	} {
		span, err := report.ParseSpan(map[string]string{"period": "custom", "from": q.from, "to": q.to}, loc, time.Now())
		if err != nil {
			return pair{}, fmt.Errorf("report period: %w", err)
		}
		query := report.Query{Kind: q.kind, Site: site, Span: span, Metrics: Metrics, Property: q.property, Limit: q.limit, Page: 1}
		if q.kind == report.Breakdown {
			query.Metrics = []string{"visitors"}
		}
		if *q.dst, err = pl.Run(ctx, query); err != nil {
			return pair{}, fmt.Errorf("report %s of %s: %w", q.kind, site.Domain, err)
		}
	}
	return out, nil
}

// entries pairs a breakdown's rows with the previous period's.
func entries(cur, prev *report.Result) []Entry {
	before := map[string]uint64{}
	for _, r := range prev.Rows {
		before[r.Key] = r.Values[0].(uint64)
	}
	var out []Entry
	for _, r := range cur.Rows {
		v := r.Values[0].(uint64)
		out = append(out, Entry{Key: r.Key, Visitors: v, Previous: before[r.Key], Change: report.Change(float64(v), float64(before[r.Key]))})
	}
	return out
}
