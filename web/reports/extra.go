package reports

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// RealtimeWindow is how far back the realtime count looks.
const RealtimeWindow = 5 * time.Minute

// HandleSites serves GET /api/v1/sites: the sites the principal may read,
// with their time zones and funnels (the dashboard's funnel menu).
func (h *Handler) HandleSites(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r, "/api/v1/sites"); err != nil {
		return err
	}
	p, ok := auth.FromRequest(r)
	if !ok {
		return httpapi.Errorf(http.StatusUnauthorized, "authentication required")
	}
	sites, err := h.st.Sites(r.Context())
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, s := range sites {
		if !p.CanSite(s.ID) {
			continue
		}
		zone := h.cfg.SiteZone(s.Domain)
		if zone == "" {
			zone = "UTC"
		}
		funnels := []map[string]any{}
		for _, f := range h.cfg.SiteFunnels(s.Domain) {
			funnels = append(funnels, map[string]any{"name": f.Name, "steps": f.Steps})
		}
		out = append(out, map[string]any{"domain": s.Domain, "time_zone": zone, "funnels": funnels})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// HandleRealtime serves GET /api/v1/stats/realtime: distinct visitors of the
// last five minutes, from the raw events.
func (h *Handler) HandleRealtime(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "/api/v1/stats/realtime")
	if err != nil {
		return err
	}
	site, err := h.siteFor(r, q["site"])
	if err != nil {
		return err
	}
	now := h.now().UTC().Truncate(time.Second).Add(time.Second)
	n, err := h.st.DistinctVisitors(r.Context(), store.VisitorQuery{SiteID: site.ID, From: now.Add(-RealtimeWindow), To: now})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"site": site.Domain, "window_seconds": int(RealtimeWindow.Seconds()), "visitors": n})
	return nil
}

// HandleConsent serves GET /api/v1/stats/consent: the consent rollups per
// day (hour for period=day) and category; in JSON also the site's policy
// versions with the date each took effect, the notice that the privacy
// statement changed.
func (h *Handler) HandleConsent(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "/api/v1/stats/consent")
	if err != nil {
		return err
	}
	site, err := h.siteFor(r, q["site"])
	if err != nil {
		return err
	}
	sp, err := h.parseSpan(q, site.Domain)
	if err != nil {
		return err
	}
	if f := q["format"]; f != "" && f != "csv" && f != "json" {
		return httpapi.Errorf(http.StatusBadRequest, "unknown format %q; want json or csv", f)
	}
	g, label := store.Daily, func(t time.Time) string { return t.In(sp.Loc).Format(time.DateOnly) }
	if sp.Days == 1 {
		g, label = store.Hourly, func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	}
	rows, err := h.st.ConsentRollups(r.Context(), store.RollupQuery{SiteID: site.ID, Granularity: g, From: sp.From, To: sp.To})
	if err != nil {
		return err
	}
	header := []string{"date", "category", "decisions", "granted", "denied", "withdrawn", "gpc"}
	results := make([]map[string]any, 0, len(rows))
	var records [][]string
	for _, c := range rows {
		results = append(results, map[string]any{
			"date": label(c.WindowStart), "category": c.Category, "decisions": c.Decisions, "granted": c.Granted,
			"denied": c.Denied, "withdrawn": c.Withdrawn, "gpc": c.GPC, "partial": c.Partial,
		})
		records = append(records, []string{label(c.WindowStart), c.Category, u(c.Decisions), u(c.Granted), u(c.Denied), u(c.Withdrawn), u(c.GPC)})
	}
	if wantCSV(r, q) {
		return writeCSV(w, "consent", header, records)
	}
	all, err := h.st.PolicyVersions(r.Context())
	if err != nil {
		return err
	}
	versions := []store.PolicyVersion{}
	for _, v := range all {
		if v.SiteID == site.ID {
			versions = append(versions, v)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"site": site.Domain, "results": results, "policy_versions": versions})
	return nil
}

func u(x uint64) string { return strconv.FormatUint(x, 10) }

// statusLookback is how far back the aggregator status reads the run log.
const statusLookback = 7 * 24 * time.Hour

// HandleStatus serves GET /api/v1/aggregator/status: the site's last run,
// its lag and the windows whose latest run failed, from the run log of the
// last seven days.
func (h *Handler) HandleStatus(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "/api/v1/aggregator/status")
	if err != nil {
		return err
	}
	site, err := h.siteFor(r, q["site"])
	if err != nil {
		return err
	}
	now := h.now().UTC()
	var runs []store.Run
	for _, g := range store.Granularities {
		rs, err := h.st.Runs(r.Context(), store.RunQuery{SiteID: site.ID, Granularity: g, From: now.Add(-statusLookback), To: now.Add(time.Hour)})
		if err != nil {
			return err
		}
		runs = append(runs, rs...)
	}
	latest := map[string]store.Run{} // by granularity and window
	var last *store.Run
	for i, run := range runs {
		key := string(run.Granularity) + run.WindowStart.String()
		if prev, ok := latest[key]; !ok || run.Version > prev.Version {
			latest[key] = run
		}
		if last == nil || run.Finished.After(last.Finished) {
			last = &runs[i]
		}
	}
	failed := []map[string]any{}
	for _, run := range latest {
		if run.Status == store.RunFailed {
			failed = append(failed, map[string]any{
				"granularity": run.Granularity, "window_start": run.WindowStart, "finished": run.Finished, "error": run.Error,
			})
		}
	}
	slices.SortFunc(failed, func(a, b map[string]any) int {
		return a["window_start"].(time.Time).Compare(b["window_start"].(time.Time))
	})
	out := map[string]any{"site": site.Domain, "failed_windows": failed, "last_run": nil, "lag_seconds": nil}
	if last != nil {
		out["last_run"] = map[string]any{
			"version": last.Version, "started": last.Started, "finished": last.Finished, "status": last.Status,
			"granularity": last.Granularity, "window_start": last.WindowStart, "partial": last.Partial,
			"rows_read": last.RowsRead, "rows_written": last.RowsWritten,
		}
		out["lag_seconds"] = int64(now.Sub(last.Finished).Seconds())
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// HandlePartnerAggregates serves GET /api/partner/v1/aggregates: the
// release aggregator.NewRelease makes for the token's partner, nothing else,
// computed once per window and then served as stored, under the partner's
// privacy budget (aggregator.Releaser).
func (h *Handler) HandlePartnerAggregates(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r, "/api/partner/v1/aggregates")
	if err != nil {
		return err
	}
	p, ok := auth.FromRequest(r)
	if !ok || p.Role != auth.RolePartner || p.Partner == "" {
		return httpapi.Errorf(http.StatusForbidden, "forbidden")
	}
	partner, ok := h.cfg.Partner(p.Partner)
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "no release is configured for this partner")
	}
	from, err1 := time.Parse(time.DateOnly, q["from"])
	to, err2 := time.Parse(time.DateOnly, q["to"])
	if err1 != nil || err2 != nil {
		return httpapi.Errorf(http.StatusBadRequest, "from and to are required, as YYYY-MM-DD")
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return httpapi.Errorf(http.StatusBadRequest, "want from ≤ to, at most 366 days apart")
	}
	if f := q["format"]; f != "" && f != "csv" && f != "json" {
		return httpapi.Errorf(http.StatusBadRequest, "unknown format %q; want json or csv", f)
	}
	rel, err := h.releases.Serve(r.Context(), aggregator.ReleaseRequest{
		Partner: partner, From: from, To: to, Zone: h.cfg.SiteZone, Noise: h.noise, Now: h.now,
		Goals: h.cfg.SiteGoals, Funnels: h.cfg.SiteFunnels,
	})
	var spent *aggregator.BudgetError
	if errors.As(err, &spent) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(spent.Next.Sub(h.now()), time.Second)/time.Second)))
		return &httpapi.Error{Code: http.StatusTooManyRequests, Msg: spent.Error()}
	}
	if err != nil {
		return fmt.Errorf("partner release: %w", err)
	}
	if wantCSV(r, q) {
		header := append([]string{"dimension", "site", "day", "value"}, rel.Params.Metrics...)
		var records [][]string
		for _, t := range rel.Tables {
			for _, row := range t.Rows {
				rec := []string{t.Dimension, row.Site, row.Day, row.Value}
				for _, v := range row.Metrics {
					rec = append(rec, strconv.FormatInt(v, 10))
				}
				records = append(records, rec)
			}
		}
		return writeCSV(w, "aggregates", header, records)
	}
	tables := make([]map[string]any, 0, len(rel.Tables))
	for _, t := range rel.Tables {
		rows := make([]map[string]any, 0, len(t.Rows))
		for _, row := range t.Rows {
			obj := map[string]any{"site": row.Site, "day": row.Day, "value": row.Value}
			for i, m := range rel.Params.Metrics {
				obj[m] = row.Metrics[i]
			}
			rows = append(rows, obj)
		}
		tables = append(tables, map[string]any{"dimension": t.Dimension, "rows": rows})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"partner": rel.Partner, "from": rel.From, "to": rel.To, "generated_at": rel.GeneratedAt,
		"params": rel.Params, "tables": tables,
	})
	return nil
}
