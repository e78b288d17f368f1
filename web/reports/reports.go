// Package reports is the analysts' stats API (/api/v1/...) and the
// partners' aggregates API (/api/partner/v1/...).
//
// The stats endpoints parse a request, ask the report planner
// (aggregator/report, which footfall report uses too) and render its
// result as JSON or CSV; what the planner reads — rollups or raw events —
// is described there.
//
// The partner endpoint serves exactly the release aggregator.NewRelease
// makes for the partner named by the token.
package reports

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Store is what the reports read; both backends satisfy it.
type Store interface {
	report.Store
	Sites(ctx context.Context) ([]store.Site, error)
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error)
	Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error)
	PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error)
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
	AddPartnerRelease(ctx context.Context, r store.PartnerRelease) error
	PartnerRelease(ctx context.Context, partner, from, to string) (store.PartnerRelease, error)
	PartnerReleases(ctx context.Context, partner string, since time.Time) ([]store.PartnerRelease, error)
	PutAnnotation(ctx context.Context, a store.Annotation) error
	DeleteAnnotation(ctx context.Context, siteID uint32, id string) error
	Annotations(ctx context.Context, siteID uint32) ([]store.Annotation, error)
	PutSegment(ctx context.Context, g store.Segment) error
	DeleteSegment(ctx context.Context, siteID uint32, id string) error
	Segments(ctx context.Context, siteID uint32) ([]store.Segment, error)
	Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error)
}

// Options are what a Handler needs. Store is required.
type Options struct {
	Store Store
	// Config gives site time zones and partners; nil is an empty config.
	Config *config.Config
	// Noise is the partner releases' DP mechanism; default Laplace.
	Noise aggregator.Noise
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Budget is each report's time limit (Handler.Budget); default
	// DefaultBudget. Keep it below the HTTP server's write timeout.
	Budget time.Duration
	// Metrics registers the reports' counters; nil keeps them unregistered.
	Metrics prometheus.Registerer
	// SampleAbove: a report over a period of more raw events than this
	// reads its visit rows from a sample (report.Planner.WithSampling,
	// ClickHouse only); 0, the default, never samples.
	SampleAbove uint64
}

// Handler serves the reports. Its methods are httpapi handlers meant to sit
// behind auth.Require (server/routes.go).
type Handler struct {
	st    Store
	cfg   *config.Config
	noise aggregator.Noise
	now   func() time.Time
	// releases serves partner releases once per window, under budget.
	releases *aggregator.Releaser
	planner  *report.Planner

	budget     time.Duration
	overBudget prometheus.Counter
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Config == nil {
		opts.Config = &config.Config{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	return &Handler{st: opts.Store, cfg: opts.Config, noise: opts.Noise, now: opts.Now, releases: aggregator.NewReleaser(opts.Store),
		planner: report.New(opts.Store, opts.Now).WithSampling(opts.SampleAbove),
		budget:  opts.Budget, overBudget: newOverBudget(opts.Metrics)}
}

// siteFor resolves the site parameter and checks the principal may read it.
func (h *Handler) siteFor(r *http.Request, domain string) (store.Site, error) {
	if domain == "" {
		return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "site is required")
	}
	p, ok := auth.FromRequest(r)
	if !ok {
		return store.Site{}, httpapi.Errorf(http.StatusUnauthorized, "authentication required")
	}
	site, err := h.st.SiteByDomain(r.Context(), domain)
	if errors.Is(err, store.ErrNotFound) {
		// A scoped principal learns nothing about sites out of its scope.
		if p.Sites != nil {
			return store.Site{}, httpapi.Errorf(http.StatusForbidden, "forbidden")
		}
		return store.Site{}, httpapi.Errorf(http.StatusNotFound, "no such site")
	}
	if err != nil {
		return store.Site{}, err
	}
	if !p.CanSite(site.ID) {
		return store.Site{}, httpapi.Errorf(http.StatusForbidden, "forbidden")
	}
	return site, nil
}

// common reads the parameters every stats report of kind shares and
// parses them into the planner's query.
func (h *Handler) common(r *http.Request, path string, kind report.Kind) (map[string]string, report.Query, error) {
	q, err := query(r, path)
	if err != nil {
		return nil, report.Query{}, err
	}
	site, err := h.siteFor(r, q["site"])
	if err != nil {
		return nil, report.Query{}, err
	}
	if err := h.withSegment(r, q, site); err != nil {
		return nil, report.Query{}, err
	}
	if f := q["format"]; f != "" && f != "csv" && f != "json" {
		return nil, report.Query{}, httpapi.Errorf(http.StatusBadRequest, "unknown format %q; want json or csv", f)
	}
	loc, err := store.LoadZone(h.cfg.SiteZone(site.Domain))
	if err != nil {
		return nil, report.Query{}, err
	}
	rq, err := report.ParseQuery(kind, q, site, loc, h.now())
	if err != nil {
		return nil, report.Query{}, badInput(err)
	}
	if rq.Goals, err = h.siteGoals(r.Context(), site); err != nil {
		return nil, report.Query{}, err
	}
	rq.Funnels = h.cfg.SiteFunnels(site.Domain)
	return q, rq, nil
}

// siteGoals are the site's goals as every report reads them: the config
// file's and those added through the admin API (store.MergeGoals).
func (h *Handler) siteGoals(ctx context.Context, site store.Site) ([]store.Goal, error) {
	stored, err := h.st.Goals(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	return store.MergeGoals(h.cfg.SiteGoals(site.Domain), stored), nil
}

// badInput turns the planner's *report.InputError into a 400.
func badInput(err error) error {
	var in *report.InputError
	if errors.As(err, &in) {
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: in.Msg}
	}
	return err
}

// parseSpan reads period, date, from and to in the site's zone.
func (h *Handler) parseSpan(q map[string]string, domain string) (report.Span, error) {
	loc, err := store.LoadZone(h.cfg.SiteZone(domain))
	if err != nil {
		return report.Span{}, err
	}
	sp, err := report.ParseSpan(q, loc, h.now())
	return sp, badInput(err)
}

func wantCSV(r *http.Request, q map[string]string) bool {
	if f := q["format"]; f != "" {
		return f == "csv"
	}
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// serve answers the stats report of kind at path: parse, plan, render.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, path string, kind report.Kind) error {
	q, rq, err := h.common(r, path, kind)
	if err != nil {
		return err
	}
	res, err := h.planner.Run(r.Context(), rq)
	if err != nil {
		return badInput(err) // an unknown goal or funnel
	}
	if wantCSV(r, q) {
		header, records := res.Table()
		return writeCSV(w, res.Name(), header, records)
	}
	httpapi.WriteJSON(w, http.StatusOK, res.JSON())
	return nil
}

// HandleAggregate serves GET /api/v1/stats/aggregate.
func (h *Handler) HandleAggregate(w http.ResponseWriter, r *http.Request) error {
	return h.serve(w, r, "/api/v1/stats/aggregate", report.Aggregate)
}

// HandleTimeseries serves GET /api/v1/stats/timeseries.
func (h *Handler) HandleTimeseries(w http.ResponseWriter, r *http.Request) error {
	return h.serve(w, r, "/api/v1/stats/timeseries", report.Timeseries)
}

// HandleBreakdown serves GET /api/v1/stats/breakdown.
func (h *Handler) HandleBreakdown(w http.ResponseWriter, r *http.Request) error {
	return h.serve(w, r, "/api/v1/stats/breakdown", report.Breakdown)
}

// HandleFunnel serves GET /api/v1/stats/funnel.
func (h *Handler) HandleFunnel(w http.ResponseWriter, r *http.Request) error {
	return h.serve(w, r, "/api/v1/stats/funnel", report.Funnel)
}

// writeCSV answers a header row and records as a CSV attachment.
func writeCSV(w http.ResponseWriter, name string, header []string, records [][]string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+".csv"))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return report.WriteCSV(w, header, records)
}
