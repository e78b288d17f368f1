package clickhouse

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/footfall/footfall/store"
)

var (
	qRollupsInsertEmail   = mustQuery("rollups_insert_email")
	qConsentRollupsInsert = mustQuery("consent_rollups_insert")
	qRollupsDelete        = mustQuery("rollups_delete")
	qVisitsDelete         = mustQuery("visits_delete")
	qConsentRollupsDelete = mustQuery("consent_rollups_delete")
	qRollupsStored        = mustQuery("rollups_stored")
	qRollupsRowsRead      = mustQuery("rollups_rows_read")
	qRollupsRowsWritten   = mustQuery("rollups_rows_written")
	qRollupsSelect        = mustQuery("rollups_select")
	qConsentRollupsSelect = mustQuery("consent_rollups_select")
	qRollupRunsInsert     = mustQuery("rollup_runs_insert")
	qRollupRunsSelect     = mustQuery("rollup_runs_select")
	qRollupLateWindows    = mustQuery("rollup_late_windows")
	qEventsFirst          = mustQuery("events_first")
	qPartnerCells         = rollupQuery("partner_cells")
)

var fragmentRef = regexp.MustCompile(`\{\{([a-z_]+)\}\}`)

// rollupQuery is mustQuery with every {{name}} replaced by the fragment in
// queries/rollup_frag_<name>.sql, itself expanded. The fragments are files
// of this package, never input: the sessionising subqueries are shared by
// the rollups and the partner cells, and ClickHouse 18.16 has no CTEs.
func rollupQuery(name string) string {
	return expandFragments(mustQuery(name), 0)
}

func expandFragments(q string, depth int) string {
	if depth > 6 {
		panic("clickhouse: query fragments nest too deep")
	}
	return fragmentRef.ReplaceAllStringFunc(q, func(ref string) string {
		name := fragmentRef.FindStringSubmatch(ref)[1]
		return expandFragments(mustQuery("rollup_frag_"+name), depth+1)
	})
}

// aggregationSettings let the big aggregations spill GROUP BY state to
// disk rather than fail at the server's memory limit (10 GiB by default),
// and let a query carry a long list of kept cells (max_query_size is 256 KiB
// by default). Both are integer settings every version knows.
var aggregationSettings = ch.Settings{
	"max_bytes_before_external_group_by": 4 << 30,
	"max_query_size":                     64 << 20,
}

// windowArgs are the named arguments every rollup query shares.
func windowArgs(siteID uint32, g store.Granularity, tz string, from, to time.Time) []any {
	hourly := 0
	if g == store.Hourly {
		hourly = 1
	}
	if tz == "" {
		tz = "UTC"
	}
	return []any{
		ch.Named("site", siteID),
		ch.Named("granularity", string(g)),
		ch.Named("hourly", hourly),
		ch.Named("tz", tz),
		ch.Named("from", uint32(from.Unix())),
		ch.Named("to", uint32(to.Unix())),
	}
}

// ReplaceRollups (re)computes the rollups, visit rows and consent rollups
// of the windows of spec. The windows' earlier rows are deleted first (an ALTER
// TABLE … DELETE awaited on system.mutations), then INSERT … SELECT
// statements aggregate the raw rows inside ClickHouse. Between the two, readers
// see the windows empty; one aggregator runs at a time.
func (s *Store) ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error) {
	windows, err := spec.Validate()
	if err != nil {
		return nil, err
	}
	args := windowArgs(spec.SiteID, spec.Granularity, spec.TimeZone, spec.From, spec.To)
	if err := s.deleteRollups(ctx, args); err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	insertArgs := append(append(args, goalArgs(nil, "g")...),
		ch.Named("dims", store.RollupDimensions),
		ch.Named("exclude_gpc", 0),
		ch.Named("partial", boolUInt8(spec.Partial)),
		ch.Named("version", spec.Version),
	)
	if err := s.insertVisits(ctx, spec, insertArgs); err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	if err := s.conn.Exec(ch.Context(ctx, ch.WithSettings(aggregationSettings)), qRollupsInsertEmail, insertArgs...); err != nil {
		return nil, fmt.Errorf("replace rollups: insert e-mail rollups: %w", err)
	}
	if err := s.insertSketches(ctx, insertArgs); err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	if err := s.conn.Exec(ctx, qConsentRollupsInsert, insertArgs...); err != nil {
		return nil, fmt.Errorf("replace rollups: insert consent rollups: %w", err)
	}
	read, err := s.countByWindow(ctx, qRollupsRowsRead, args)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: count rows read: %w", err)
	}
	written, err := s.countByWindow(ctx, qRollupsRowsWritten, args)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: count rows written: %w", err)
	}
	out := make([]store.WindowCount, len(windows))
	for i, w := range windows {
		key := uint32(w.Start.Unix())
		out[i] = store.WindowCount{Start: w.Start, RowsRead: read[key], RowsWritten: written[key]}
	}
	return out, nil
}

// deleteRollups removes the rollup, consent rollup and visit rows of the
// windows in args, if there are any.
func (s *Store) deleteRollups(ctx context.Context, args []any) error {
	var rollups, consent, visits uint64
	if err := s.conn.QueryRow(ctx, qRollupsStored, args...).Scan(&rollups, &consent, &visits); err != nil {
		return fmt.Errorf("count stored rollups: %w", err)
	}
	if rollups > 0 {
		if err := s.alter(ctx, qRollupsDelete, args...); err != nil {
			return fmt.Errorf("delete rollups: %w", err)
		}
		if err := s.waitMutations(ctx, "rollups"); err != nil {
			return err
		}
	}
	if consent > 0 {
		if err := s.alter(ctx, qConsentRollupsDelete, args...); err != nil {
			return fmt.Errorf("delete consent rollups: %w", err)
		}
		if err := s.waitMutations(ctx, "consent_rollups"); err != nil {
			return err
		}
	}
	if visits > 0 {
		if err := s.alter(ctx, qVisitsDelete, args...); err != nil {
			return fmt.Errorf("delete visits: %w", err)
		}
		if err := s.waitMutations(ctx, "visits"); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) countByWindow(ctx context.Context, query string, args []any) (map[uint32]uint64, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]uint64{}
	for rows.Next() {
		var (
			win uint32
			n   uint64
		)
		if err := rows.Scan(&win, &n); err != nil {
			return nil, err
		}
		out[win] = n
	}
	return out, rows.Err()
}

// Rollups returns the rollup rows of q, by window, dimension and value.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error) {
	rows, err := s.conn.Query(budgeted(ctx, nil), qRollupsSelect, windowArgs(q.SiteID, q.Granularity, "", q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		var (
			r       store.RollupRow
			g       string
			partial uint8
		)
		if err := rows.Scan(&r.SiteID, &g, &r.WindowStart, &r.Dimension, &r.Value,
			&r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces, &r.DurationSec, &r.EngagedMS, &partial); err != nil {
			return nil, fmt.Errorf("read rollups: %w", budgetErr(ctx, err))
		}
		r.Granularity = store.Granularity(g)
		r.WindowStart = r.WindowStart.UTC()
		r.Partial = partial == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", budgetErr(ctx, err))
	}
	return out, nil
}

// ConsentRollups returns the consent rollup rows of q, by window and category.
func (s *Store) ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error) {
	rows, err := s.conn.Query(budgeted(ctx, nil), qConsentRollupsSelect, windowArgs(q.SiteID, q.Granularity, "", q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read consent rollups: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.ConsentRollupRow
	for rows.Next() {
		var (
			r       store.ConsentRollupRow
			g       string
			partial uint8
		)
		if err := rows.Scan(&r.SiteID, &g, &r.WindowStart, &r.Category,
			&r.Decisions, &r.Granted, &r.Denied, &r.Withdrawn, &r.GPC, &partial); err != nil {
			return nil, fmt.Errorf("read consent rollups: %w", budgetErr(ctx, err))
		}
		r.Granularity = store.Granularity(g)
		r.WindowStart = r.WindowStart.UTC()
		r.Partial = partial == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent rollups: %w", budgetErr(ctx, err))
	}
	return out, nil
}

// AppendRuns adds entries to the run log in one batch.
func (s *Store) AppendRuns(ctx context.Context, runs []store.Run) error {
	if len(runs) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, qRollupRunsInsert)
	if err != nil {
		return fmt.Errorf("append runs: %w", err)
	}
	defer batch.Close()
	for _, r := range runs {
		if err := batch.Append(r.SiteID, string(r.Granularity), r.WindowStart.UTC(), r.WindowEnd.UTC(), r.Version,
			r.Started.UTC(), r.Finished.UTC(), r.RowsRead, r.RowsWritten, string(r.Status), boolUInt8(r.Partial), r.Error); err != nil {
			return fmt.Errorf("append runs: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("append runs: %w", err)
	}
	return nil
}

// Runs returns the run log entries of q, by window and version.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	rows, err := s.conn.Query(budgeted(ctx, nil), qRollupRunsSelect, windowArgs(q.SiteID, q.Granularity, "", q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.Run
	for rows.Next() {
		var (
			r       store.Run
			g, st   string
			partial uint8
		)
		if err := rows.Scan(&r.SiteID, &g, &r.WindowStart, &r.WindowEnd, &r.Version, &r.Started, &r.Finished,
			&r.RowsRead, &r.RowsWritten, &st, &partial, &r.Error); err != nil {
			return nil, fmt.Errorf("read runs: %w", budgetErr(ctx, err))
		}
		r.Granularity, r.Status, r.Partial = store.Granularity(g), store.RunStatus(st), partial == 1
		r.WindowStart, r.WindowEnd = r.WindowStart.UTC(), r.WindowEnd.UTC()
		r.Started, r.Finished = r.Started.UTC(), r.Finished.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs: %w", budgetErr(ctx, err))
	}
	return out, nil
}

// LateWindows returns the starts of the windows of q whose results are stale.
func (s *Store) LateWindows(ctx context.Context, q store.LateQuery) ([]time.Time, error) {
	rows, err := s.conn.Query(ctx, qRollupLateWindows, windowArgs(q.SiteID, q.Granularity, q.TimeZone, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("find late windows: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var win uint32
		if err := rows.Scan(&win); err != nil {
			return nil, fmt.Errorf("find late windows: %w", err)
		}
		out = append(out, time.Unix(int64(win), 0).UTC())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find late windows: %w", err)
	}
	return out, nil
}

// FirstActivity returns the time of a site's first event or consent record,
// or store.ErrNotFound when it has neither.
func (s *Store) FirstActivity(ctx context.Context, siteID uint32) (time.Time, error) {
	var (
		first time.Time
		n     uint64
	)
	if err := s.conn.QueryRow(ctx, qEventsFirst, ch.Named("site", siteID)).Scan(&first, &n); err != nil {
		return time.Time{}, fmt.Errorf("first event of site %d: %w", siteID, err)
	}
	if n == 0 {
		return time.Time{}, fmt.Errorf("first event of site %d: %w", siteID, store.ErrNotFound)
	}
	return first.UTC(), nil
}

// PartnerCells answers a CellQuery inside ClickHouse.
func (s *Store) PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error) {
	if _, err := store.LoadZone(q.TimeZone); err != nil {
		return nil, fmt.Errorf("partner cells: %w", err)
	}
	// A sentinel keeps the arrays typed Array(String) when empty: "-" is no
	// dimension and "" no cell key.
	dims := append([]string{"-"}, q.Dimensions...)
	keep := append([]string{""}, q.Keep...)
	args := append(append(windowArgs(q.SiteID, store.Daily, q.TimeZone, q.From, q.To), goalArgs(nil, "g")...),
		ch.Named("dims", dims),
		ch.Named("exclude_gpc", 1),
		ch.Named("fold", boolUInt8(q.Fold)),
		ch.Named("keep", keep),
		ch.Named("max_cells", bound(q.MaxCellsPerVisitor)),
		ch.Named("max_visits", bound(q.MaxVisits)),
		ch.Named("max_pageviews", bound(q.MaxPageviews)),
		ch.Named("max_events", bound(q.MaxEvents)),
	)
	rows, err := s.conn.Query(budgeted(ctx, aggregationSettings), qPartnerCells, args...)
	if err != nil {
		return nil, fmt.Errorf("partner cells: %w", budgetErr(ctx, err))
	}
	defer rows.Close()
	var out []store.Cell
	for rows.Next() {
		var (
			c   store.Cell
			win uint32
		)
		if err := rows.Scan(&win, &c.Dimension, &c.Value, &c.TrueVisitors, &c.Visitors, &c.Visits, &c.Pageviews, &c.Events); err != nil {
			return nil, fmt.Errorf("partner cells: %w", budgetErr(ctx, err))
		}
		c.Day = time.Unix(int64(win), 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partner cells: %w", budgetErr(ctx, err))
	}
	return out, nil
}

// bound is a contribution bound for SQL: 0 (none) becomes a number no
// count reaches.
func bound(n int) uint64 {
	if n <= 0 {
		return math.MaxUint32
	}
	return uint64(n)
}
