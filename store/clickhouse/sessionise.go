package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

var (
	qVisitsEvents  = rollupQuery("visits_events")
	qVisitsAppend  = mustQuery("visits_append")
	qRollupsAppend = mustQuery("rollups_append")
)

// visitsPerBatch bounds one append of visit rows: growing the batch's
// column buffers for a whole day of a 10M-event month cost more CPU than
// the appends themselves.
const visitsPerBatch = 16384

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
	var (
		batch         driver.Batch
		rows          int
		sessionValues = make([]string, len(sessionNames))
		cells         = store.NewRollupCells()
		dims, values  []string
		counts        [3][]uint64 // pageviews, events, engaged time of each value
	)
	defer func() {
		if batch != nil {
			batch.Close()
		}
	}()
	for _, g := range groups {
		for _, v := range store.CutVisits(g) {
			cells.Add(v.Visit)
			if batch == nil {
				if batch, err = s.conn.PrepareBatch(ctx, qVisitsAppend); err != nil {
					return fmt.Errorf("insert visits: %w", err)
				}
			}
			for i, name := range sessionNames {
				sessionValues[i] = v.Session[name]
			}
			dims, values = dims[:0], values[:0]
			for i := range counts {
				counts[i] = counts[i][:0]
			}
			for _, x := range v.Values {
				dims, values = append(dims, x.Dimension), append(values, x.Value)
				counts[0], counts[1], counts[2] = append(counts[0], x.Pageviews), append(counts[1], x.Events), append(counts[2], x.EngagedMS)
			}
			// Append copies the values into the batch's columns.
			if err := batch.Append(spec.SiteID, string(spec.Granularity), v.WindowStart, v.VisitorKey, v.SessionID, v.Number, v.Start,
				v.Pageviews, v.Events, boolUInt8(v.Bounce), v.DurationSec, v.EngagedMS, sessionNames, sessionValues,
				dims, values, counts[0], counts[1], counts[2], uint8(store.TouchedVersion), boolUInt8(spec.Partial), spec.Version); err != nil {
				return fmt.Errorf("insert visits: %w", err)
			}
			if rows++; rows%visitsPerBatch == 0 {
				if err := batch.Send(); err != nil {
					return fmt.Errorf("insert visits: %w", err)
				}
				batch = nil
			}
		}
	}
	if batch != nil {
		if err := batch.Send(); err != nil {
			return fmt.Errorf("insert visits: %w", err)
		}
		batch = nil
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
