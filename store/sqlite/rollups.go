package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"time"

	"github.com/footfall/footfall/store"
)

var fragmentRef = regexp.MustCompile(`\{\{([a-z_]+)\}\}`)

// rollupQuery is the embedded query of that name with every {{name}}
// replaced by queries/rollup_frag_<name>.sql: the common table expressions
// the rollups and the partner cells share. Fragments are files of this
// package, never input.
func (s *Store) rollupQuery(name string) string {
	return s.rollupQueryWith(name, nil)
}

// rollupQueryWith is rollupQuery with the fragments that swap names
// replaced by the embedded queries it maps them to.
func (s *Store) rollupQueryWith(name string, swap map[string]string) string {
	return s.expandFragments(s.query(name), swap)
}

// expandFragments replaces every {{name}} in q as rollupQueryWith does.
func (s *Store) expandFragments(q string, swap map[string]string) string {
	// A fragment may name others (the rows fragment: goal_hits); the
	// fragments are few and name no cycle.
	for fragmentRef.MatchString(q) {
		q = fragmentRef.ReplaceAllStringFunc(q, func(ref string) string {
			frag := fragmentRef.FindStringSubmatch(ref)[1]
			if other, ok := swap[frag]; ok {
				return s.query(other)
			}
			return s.query("rollup_frag_" + frag)
		})
	}
	return q
}

// windowsJSON encodes windows as the [[start, end], …] array the queries
// join events to. SQLite has no time zones, so daily windows in a site's
// zone are computed here.
func windowsJSON(windows []store.Window) string {
	pairs := make([][2]int64, len(windows))
	for i, w := range windows {
		pairs[i] = [2]int64{w.Start.Unix(), w.End.Unix()}
	}
	b, _ := json.Marshal(pairs) // cannot fail: integers only
	return string(b)
}

func jsonStrings(xs []string) string {
	if xs == nil {
		xs = []string{}
	}
	b, _ := json.Marshal(xs) // cannot fail: strings only
	return string(b)
}

// noGoals binds the rows fragment's :goals for queries that read no goals.
var noGoals = sql.Named("goals", "[]")

// rangeArgs are the named arguments of a site's windows in [from, to).
func rangeArgs(siteID uint32, g store.Granularity, from, to time.Time) []any {
	return []any{
		sql.Named("site", siteID),
		sql.Named("granularity", string(g)),
		sql.Named("from", from.Unix()),
		sql.Named("to", to.Unix()),
	}
}

// rollupArgs are the named arguments of the rollup statements of spec's
// windows, for the dimensions dims.
func rollupArgs(spec store.RollupSpec, windows []store.Window, dims []string) []any {
	return append(rangeArgs(spec.SiteID, spec.Granularity, spec.From, spec.To),
		sql.Named("windows", windowsJSON(windows)),
		sql.Named("dims", jsonStrings(dims)),
		sql.Named("exclude_gpc", 0),
		sql.Named("partial", spec.Partial),
		sql.Named("version", int64(spec.Version)),
	)
}

// ReplaceRollups (re)computes the rollups and consent rollups of the
// windows of spec. Computing reads the events in one snapshot into
// temporary tables of its own connection, holding no write lock; only
// publishing (delete the windows' earlier rows, copy the stage in) is a
// write transaction, and a short one. A long aggregation so never keeps
// consent decisions or beacons waiting on the file's lock.
func (s *Store) ReplaceRollups(ctx context.Context, spec store.RollupSpec) ([]store.WindowCount, error) {
	windows, err := spec.Validate()
	if err != nil {
		return nil, err
	}
	args := rollupArgs(spec, windows, store.RollupDimensions)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	defer conn.Close()
	read, written, err := s.stageRollups(ctx, conn, spec, windows, args)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	sketches, err := s.stagedSketches(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.query("rollups_publish"), args...); err != nil {
		return nil, fmt.Errorf("replace rollups: publish: %w", err)
	}
	if err := s.publishSketches(ctx, tx, args, sketches); err != nil {
		return nil, fmt.Errorf("replace rollups: publish: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("replace rollups: %w", err)
	}
	out := make([]store.WindowCount, len(windows))
	for i, w := range windows {
		out[i] = store.WindowCount{Start: w.Start, RowsRead: read[w.Start.Unix()], RowsWritten: written[w.Start.Unix()]}
	}
	return out, nil
}

// stageRollups computes the windows of spec (args are its named
// arguments) into conn's stage tables in one read transaction (BEGIN
// DEFERRED: writing temporary tables takes no lock on the database file)
// and counts the rows read and staged per window.
func (s *Store) stageRollups(ctx context.Context, conn *sql.Conn, spec store.RollupSpec, windows []store.Window, args []any) (read, written map[int64]uint64, err error) {
	if _, err := conn.ExecContext(ctx, s.query("rollups_stage_create")); err != nil {
		return nil, nil, fmt.Errorf("create stage: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	// The one pass over the events: the visits, their values and the
	// rollups they make.
	if err := s.stageVisits(ctx, conn, spec, windows); err != nil {
		return nil, nil, fmt.Errorf("insert visits and rollups: %w", err)
	}
	steps := []struct {
		name, query string
		args        []any
	}{
		{"insert e-mail rollups", s.query("rollups_insert_email"), args},
		{"insert consent rollups", s.query("consent_rollups_insert"), args},
	}
	for _, st := range steps {
		if _, err := conn.ExecContext(ctx, st.query, st.args...); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", st.name, err)
		}
	}
	if read, err = countByWindow(ctx, conn, s.query("rollups_rows_read"), args); err != nil {
		return nil, nil, fmt.Errorf("count rows read: %w", err)
	}
	if written, err = countByWindow(ctx, conn, s.query("rollups_rows_written"), args); err != nil {
		return nil, nil, fmt.Errorf("count rows written: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, nil, err
	}
	return read, written, nil
}

func countByWindow(ctx context.Context, tx interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any) (map[int64]uint64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]uint64{}
	for rows.Next() {
		var win, n int64
		if err := rows.Scan(&win, &n); err != nil {
			return nil, err
		}
		out[win] = uint64(n)
	}
	return out, rows.Err()
}

// Rollups returns the rollup rows of q, by window, dimension and value.
func (s *Store) Rollups(ctx context.Context, q store.RollupQuery) ([]store.RollupRow, error) {
	rows, err := s.db.QueryContext(ctx, s.query("rollups_select"), rangeArgs(q.SiteID, q.Granularity, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	var out []store.RollupRow
	for rows.Next() {
		var (
			r     store.RollupRow
			g     string
			start int64
		)
		if err := rows.Scan(&r.SiteID, &g, &start, &r.Dimension, &r.Value,
			&r.Visitors, &r.Visits, &r.Pageviews, &r.Events, &r.Bounces, &r.DurationSec, &r.EngagedMS, &r.Partial); err != nil {
			return nil, fmt.Errorf("read rollups: %w", err)
		}
		r.Granularity = store.Granularity(g)
		r.WindowStart = time.Unix(start, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	return out, nil
}

// ConsentRollups returns the consent rollup rows of q, by window and category.
func (s *Store) ConsentRollups(ctx context.Context, q store.RollupQuery) ([]store.ConsentRollupRow, error) {
	rows, err := s.db.QueryContext(ctx, s.query("consent_rollups_select"), rangeArgs(q.SiteID, q.Granularity, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read consent rollups: %w", err)
	}
	defer rows.Close()
	var out []store.ConsentRollupRow
	for rows.Next() {
		var (
			r     store.ConsentRollupRow
			g     string
			start int64
		)
		if err := rows.Scan(&r.SiteID, &g, &start, &r.Category,
			&r.Decisions, &r.Granted, &r.Denied, &r.Withdrawn, &r.GPC, &r.Partial); err != nil {
			return nil, fmt.Errorf("read consent rollups: %w", err)
		}
		r.Granularity = store.Granularity(g)
		r.WindowStart = time.Unix(start, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read consent rollups: %w", err)
	}
	return out, nil
}

// AppendRuns adds entries to the run log in one transaction.
func (s *Store) AppendRuns(ctx context.Context, runs []store.Run) error {
	if len(runs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append runs: %w", err)
	}
	defer tx.Rollback()
	for _, r := range runs {
		if _, err := tx.ExecContext(ctx, s.query("rollup_runs_insert"), r.SiteID, string(r.Granularity),
			r.WindowStart.Unix(), r.WindowEnd.Unix(), int64(r.Version), r.Started.Unix(), r.Finished.Unix(),
			int64(r.RowsRead), int64(r.RowsWritten), string(r.Status), r.Partial, r.Error); err != nil {
			return fmt.Errorf("append runs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append runs: %w", err)
	}
	return nil
}

// Runs returns the run log entries of q, by window and version.
func (s *Store) Runs(ctx context.Context, q store.RunQuery) ([]store.Run, error) {
	rows, err := s.db.QueryContext(ctx, s.query("rollup_runs_select"), rangeArgs(q.SiteID, q.Granularity, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	defer rows.Close()
	var out []store.Run
	for rows.Next() {
		var (
			r                                   store.Run
			g, st                               string
			start, end, version, started, ended int64
		)
		if err := rows.Scan(&r.SiteID, &g, &start, &end, &version, &started, &ended,
			&r.RowsRead, &r.RowsWritten, &st, &r.Partial, &r.Error); err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		r.Granularity, r.Status, r.Version = store.Granularity(g), store.RunStatus(st), uint64(version)
		r.WindowStart, r.WindowEnd = time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC()
		r.Started, r.Finished = time.Unix(started, 0).UTC(), time.Unix(ended, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return out, nil
}

// LateWindows returns the starts of the windows of q whose results are stale.
func (s *Store) LateWindows(ctx context.Context, q store.LateQuery) ([]time.Time, error) {
	loc, err := store.LoadZone(q.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("find late windows: %w", err)
	}
	args := append(rangeArgs(q.SiteID, q.Granularity, q.From, q.To),
		sql.Named("windows", windowsJSON(store.Windows(q.Granularity, loc, q.From, q.To))))
	rows, err := s.db.QueryContext(ctx, s.query("rollup_late_windows"), args...)
	if err != nil {
		return nil, fmt.Errorf("find late windows: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var start int64
		if err := rows.Scan(&start); err != nil {
			return nil, fmt.Errorf("find late windows: %w", err)
		}
		out = append(out, time.Unix(start, 0).UTC())
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
		first sql.NullInt64
		n     int64
	)
	if err := s.db.QueryRowContext(ctx, s.query("events_first"), sql.Named("site", siteID)).Scan(&first, &n); err != nil {
		return time.Time{}, fmt.Errorf("first event of site %d: %w", siteID, err)
	}
	if n == 0 {
		return time.Time{}, fmt.Errorf("first event of site %d: %w", siteID, store.ErrNotFound)
	}
	return time.Unix(first.Int64, 0).UTC(), nil
}

// PartnerCells answers a CellQuery.
func (s *Store) PartnerCells(ctx context.Context, q store.CellQuery) ([]store.Cell, error) {
	loc, err := store.LoadZone(q.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("partner cells: %w", err)
	}
	args := append(rangeArgs(q.SiteID, store.Daily, q.From, q.To),
		sql.Named("windows", windowsJSON(store.Windows(store.Daily, loc, q.From, q.To))),
		sql.Named("dims", jsonStrings(q.Dimensions)),
		sql.Named("exclude_gpc", 1),
		sql.Named("fold", q.Fold),
		sql.Named("keep", jsonStrings(q.Keep)),
		sql.Named("max_cells", bound(q.MaxCellsPerVisitor)),
		sql.Named("max_visits", bound(q.MaxVisits)),
		sql.Named("max_pageviews", bound(q.MaxPageviews)),
		sql.Named("max_events", bound(q.MaxEvents)),
		noGoals,
	)
	rows, err := s.db.QueryContext(ctx, s.rollupQuery("partner_cells"), args...)
	if err != nil {
		return nil, fmt.Errorf("partner cells: %w", err)
	}
	defer rows.Close()
	var out []store.Cell
	for rows.Next() {
		var (
			c   store.Cell
			day int64
		)
		if err := rows.Scan(&day, &c.Dimension, &c.Value, &c.TrueVisitors, &c.Visitors, &c.Visits, &c.Pageviews, &c.Events); err != nil {
			return nil, fmt.Errorf("partner cells: %w", err)
		}
		c.Day = time.Unix(day, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partner cells: %w", err)
	}
	return out, nil
}

// bound is a contribution bound for SQL: 0 (none) becomes a number no
// count reaches.
func bound(n int) int64 {
	if n <= 0 {
		return math.MaxUint32
	}
	return int64(n)
}
