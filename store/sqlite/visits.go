package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// Visits returns the visit rows of q, by window, visitor key, session id
// and start.
func (s *Store) Visits(ctx context.Context, q store.RollupQuery) ([]store.Visit, error) {
	rows, err := s.db.QueryContext(ctx, s.query("visits_select"), rangeArgs(q.SiteID, q.Granularity, q.From, q.To)...)
	if err != nil {
		return nil, fmt.Errorf("read visits: %w", err)
	}
	defer rows.Close()
	var out []store.Visit
	for rows.Next() {
		var (
			v                    store.Visit
			win, start, key, sid int64
			session              string
			values               sql.NullString
		)
		if err := rows.Scan(&win, &key, &sid, &start, &v.Pageviews, &v.Events, &v.Bounce,
			&v.DurationSec, &v.EngagedMS, &session, &v.Partial, &values); err != nil {
			return nil, fmt.Errorf("read visits: %w", err)
		}
		v.SiteID, v.Granularity = q.SiteID, q.Granularity
		v.WindowStart, v.Start = time.Unix(win, 0).UTC(), time.Unix(start, 0).UTC()
		v.VisitorKey, v.SessionID = uint64(key), uint64(sid)
		if err := json.Unmarshal([]byte(session), &v.Session); err != nil {
			return nil, fmt.Errorf("read visits: session values: %w", err)
		}
		var touched [][]any
		if values.Valid {
			if err := json.Unmarshal([]byte(values.String), &touched); err != nil {
				return nil, fmt.Errorf("read visits: touched values: %w", err)
			}
		}
		for _, t := range touched {
			if len(t) != 5 {
				return nil, fmt.Errorf("read visits: a touched value of %d fields", len(t))
			}
			d, _ := t[0].(string)
			val, _ := t[1].(string)
			pv, _ := t[2].(float64)
			ev, _ := t[3].(float64)
			eng, _ := t[4].(float64)
			v.Values = append(v.Values, store.VisitValue{Dimension: d, Value: val, Pageviews: uint64(pv), Events: uint64(ev), EngagedMS: uint64(eng)})
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read visits: %w", err)
	}
	store.SortVisits(out)
	return out, nil
}

// VisitBreakdown answers a VisitQuery from the visit rows in one query.
func (s *Store) VisitBreakdown(ctx context.Context, q store.VisitQuery) ([]store.RollupRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Sample > 1 {
		return nil, fmt.Errorf("visit breakdown: the SQLite store does not sample (asked for 1/%d)", q.Sample)
	}
	fj, err := visitFiltersJSON(q.Filters)
	if err != nil {
		return nil, fmt.Errorf("visit breakdown: %w", err)
	}
	starts := q.BucketStarts()
	buckets := make([]int64, len(starts))
	for i, b := range starts {
		buckets[i] = b.Unix()
	}
	bj, err := json.Marshal(buckets)
	if err != nil {
		return nil, fmt.Errorf("visit breakdown: %w", err)
	}
	// The goals' keys (visits_breakdown.sql): a page goal's paths, an
	// event goal's name.
	keys := [][3]string{}
	for _, g := range q.Goals {
		switch {
		case !q.UsesGoals():
		case g.Event != "":
			keys = append(keys, [3]string{g.Name, store.DimEventName, g.Event})
		default:
			for _, p := range g.Paths {
				keys = append(keys, [3]string{g.Name, store.DimPage, p})
			}
		}
	}
	kj, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("visit breakdown: %w", err)
	}
	kind := q.DimensionKind()
	if q.Dimension == store.DimGoal {
		kind = 3
	}
	args := append(rangeArgs(q.SiteID, q.Granularity, q.From, q.To),
		sql.Named("filters", string(fj)), sql.Named("buckets", string(bj)), sql.Named("goal_keys", string(kj)),
		sql.Named("bdim", q.Dimension), sql.Named("bkind", kind))
	out, err := s.breakdownRows(ctx, q.SiteID, q.Dimension, s.rollupQuery("visits_breakdown"), args)
	if err != nil {
		return nil, fmt.Errorf("visit breakdown: %w", err)
	}
	return out, nil
}

// visitFiltersJSON encodes filters as visits_breakdown.sql and
// reports_narrow.sql read them: [dimension, operator, value, session]
// each, session 1 for a session dimension, 2 for the goals
// (rollup_frag_visit_filter_hit.sql).
func visitFiltersJSON(filters []store.Filter) (string, error) {
	out := make([][4]any, len(filters))
	for i, f := range filters {
		session := 0
		switch {
		case f.Dim == store.DimGoal:
			session = 2
		case store.SessionDimension(f.Dim):
			session = 1
		}
		out[i] = [4]any{f.Dim, f.Op, f.Value, session}
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// WindowsMissing says what the windows of q that have rollups lack
// (store.MissingWindows), in one query.
func (s *Store) WindowsMissing(ctx context.Context, q store.RollupQuery) (store.MissingWindows, error) {
	var nv, ns, nt int64
	args := append(rangeArgs(q.SiteID, q.Granularity, q.From, q.To), sql.Named("touched_version", store.TouchedVersion))
	if err := s.db.QueryRowContext(ctx, s.query("windows_missing"), args...).Scan(&nv, &ns, &nt); err != nil {
		return store.MissingWindows{}, fmt.Errorf("windows without visits: %w", err)
	}
	return store.MissingWindows{Visits: nv > 0, Sketches: ns > 0, Values: nt > 0}, nil
}
