package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/footfall/footfall/store"
)

var (
	qVisitsEvents  = rollupQuery("visits_events")
	qVisitsAppend  = mustQuery("visits_append")
	qRollupsAppend = mustQuery("rollups_append")
)

// sessionNames are the session dimensions a visit row keeps values of:
// all but the totals, in order.
var sessionNames = store.SessionDimensions[1:]

// insertVisits writes the visit rows of spec's windows (args are their
// named arguments) and the rollups they make: it reads the job's events
// once, cuts their visits in Go by store.CutVisits, the aggregator's rules
// that SQLite's aggregation follows too, sums them into rollup rows
// (store.RollupCells; the e-mail rollups come from rollups_insert_email.sql)
// and appends both in a batch each. Cutting them
// in SQL (visits_insert_reference.sql in testdata, which
// TestInsertVisitsMatchesSQL holds this to) cost the server about 8 µs of
// CPU an event, nearly all of it the arrays that stand in for a sort and a
// window function; reading the events into Go costs a fraction of that.
func (s *Store) insertVisits(ctx context.Context, spec store.RollupSpec, args []any) error {
	groups, err := s.readVisitEvents(ctx, spec, args)
	if err != nil {
		return err
	}
	batch, err := s.conn.PrepareBatch(ctx, qVisitsAppend)
	if err != nil {
		return fmt.Errorf("insert visits: %w", err)
	}
	defer batch.Close()
	sessionValues := make([]string, len(sessionNames))
	cells := store.NewRollupCells()
	for _, g := range groups {
		for _, v := range store.CutVisits(g) {
			cells.Add(v)
			for i, name := range sessionNames {
				sessionValues[i] = v.Session[name]
			}
			n := len(v.Values)
			dims, values := make([]string, n), make([]string, n)
			pageviews, events, engaged := make([]uint64, n), make([]uint64, n), make([]uint64, n)
			for i, x := range v.Values {
				dims[i], values[i], pageviews[i], events[i], engaged[i] = x.Dimension, x.Value, x.Pageviews, x.Events, x.EngagedMS
			}
			if err := batch.Append(spec.SiteID, string(spec.Granularity), v.WindowStart, v.VisitorKey, v.SessionID, v.Number, v.Start,
				v.Pageviews, v.Events, boolUInt8(v.Bounce), v.DurationSec, v.EngagedMS, sessionNames, slices.Clone(sessionValues),
				dims, values, pageviews, events, engaged, uint8(store.TouchedVersion), boolUInt8(spec.Partial), spec.Version); err != nil {
				return fmt.Errorf("insert visits: %w", err)
			}
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert visits: %w", err)
	}
	rollups, err := s.conn.PrepareBatch(ctx, qRollupsAppend)
	if err != nil {
		return fmt.Errorf("insert rollups: %w", err)
	}
	defer rollups.Close()
	for _, r := range cells.Rows() {
		if err := rollups.Append(spec.SiteID, string(spec.Granularity), r.WindowStart, r.Dimension, r.Value,
			r.Visitors, r.Visits, r.Pageviews, r.Events, r.Bounces, r.DurationSec, r.EngagedMS,
			boolUInt8(spec.Partial), spec.Version); err != nil {
			return fmt.Errorf("insert rollups: %w", err)
		}
	}
	if err := rollups.Send(); err != nil {
		return fmt.Errorf("insert rollups: %w", err)
	}
	return nil
}

// readVisitEvents reads the events of args' windows (visits_events.sql),
// grouped per window, visitor key and session id, in that order.
func (s *Store) readVisitEvents(ctx context.Context, spec store.RollupSpec, args []any) ([]store.VisitGroup, error) {
	rows, err := s.conn.Query(ctx, qVisitsEvents, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var (
		groups                = store.NewVisitGroups(spec)
		win, t                uint32
		visitorKey, sessionID uint64
		etype                 string
		e                     store.VisitEvent
		keys, values          []string
		session               = make([]string, len(store.SessionColumns))
	)
	dest := []any{&win, &visitorKey, &sessionID, &t, &etype, &e.ID, &e.Path, &e.Name, &e.Target, &keys, &values, &e.EngagedMS}
	for i := range session {
		dest = append(dest, &session[i])
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Time, e.Type = int64(t), store.EventType(etype)
		e.Props = nil
		for i := range min(len(keys), len(values)) {
			e.Props = append(e.Props, store.Prop{Key: keys[i], Value: values[i]})
		}
		e.Session = slices.Clone(session)
		groups.Add(time.Unix(int64(win), 0), visitorKey, sessionID, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return groups.Sorted(), nil
}
