package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/footfall/footfall/store"
)

var (
	qInsertEvents = mustQuery("events_insert")
	qEvents       = mustQuery("events")

	// countQueries maps each dimension PageviewCounts accepts to its query.
	countQueries = map[store.Dimension]string{
		store.ByDay:          mustQuery("count_by_day"),
		store.ByPath:         mustQuery("count_by_path"),
		store.ByReferrerHost: mustQuery("count_by_referrer_host"),
	}
)

// InsertEvents writes events in one batch. An event already stored (same id
// and time) is stored again but read once: the table collapses duplicates and
// every reader uses FINAL.
func (s *Store) InsertEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	for i, e := range events {
		if !e.Type.Valid() {
			return fmt.Errorf("insert events: event %d (%s): unknown type %q", i, e.ID, e.Type)
		}
	}
	batch, err := s.conn.PrepareBatch(ctx, qInsertEvents)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer batch.Close()
	for i, e := range events {
		ts := e.Time.UTC()
		keys, values := splitProps(e.Props)
		err := batch.Append(
			e.ID, e.SiteID, string(e.Type), ts, utcDate(ts), e.ReceivedAt.UTC(),
			e.Host, e.Path, e.Query, e.Referrer, e.ReferrerHost, e.Source,
			e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMTerm, e.UTMContent, e.ClickID,
			e.IP, e.IPTrunc, e.VisitorKey, e.KeyVersion, e.SessionID, e.UserID,
			e.ConsentID, e.Consent, e.PolicyVersion, boolUInt8(e.GPC),
			e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device, e.ScreenWidth,
			e.Country, e.Region, e.City, e.ASN, e.ISP,
			e.Name, e.Target, keys, values, e.EngagedMS, boolUInt8(e.Bot), e.BotReason,
		)
		if err != nil {
			return fmt.Errorf("insert events: event %d (%s): %w", i, e.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert events: send %d rows: %w", len(events), err)
	}
	return nil
}

// Events returns the raw events of one site in [q.From, q.To), ordered by
// time. Each stored event appears once however often it was inserted.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	from, to := q.From.UTC(), q.To.UTC()
	rows, err := s.conn.Query(ctx, qEvents, q.SiteID, from, to, from, to)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return scanEvents(rows)
}

// scanEvents reads rows of the events table in the column order of
// queries/events.sql.
func scanEvents(rows driver.Rows) ([]store.Event, error) {
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var (
			e            store.Event
			typ          string
			gpc, bot     uint8
			keys, values []string
		)
		err := rows.Scan(
			&e.ID, &e.SiteID, &typ, &e.Time, &e.ReceivedAt,
			&e.Host, &e.Path, &e.Query, &e.Referrer, &e.ReferrerHost, &e.Source,
			&e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &e.UTMTerm, &e.UTMContent, &e.ClickID,
			&e.IP, &e.IPTrunc, &e.VisitorKey, &e.KeyVersion, &e.SessionID, &e.UserID,
			&e.ConsentID, &e.Consent, &e.PolicyVersion, &gpc,
			&e.Browser, &e.BrowserVersion, &e.OS, &e.OSVersion, &e.Device, &e.ScreenWidth,
			&e.Country, &e.Region, &e.City, &e.ASN, &e.ISP,
			&e.Name, &e.Target, &keys, &values, &e.EngagedMS, &bot, &e.BotReason,
		)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Type = store.EventType(typ)
		e.Time, e.ReceivedAt = e.Time.UTC(), e.ReceivedAt.UTC()
		e.GPC, e.Bot = gpc != 0, bot != 0
		if e.Props, err = joinProps(keys, values); err != nil {
			return nil, fmt.Errorf("read events: event %s: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// PageviewCounts counts pageviews of one site in [q.From, q.To) grouped by
// q.By, most pageviews first, ties by key.
func (s *Store) PageviewCounts(ctx context.Context, q store.CountQuery) ([]store.Count, error) {
	query, ok := countQueries[q.By]
	if !ok {
		return nil, fmt.Errorf("count pageviews: unknown dimension %q", q.By)
	}
	from, to := q.From.UTC(), q.To.UTC()
	rows, err := s.conn.Query(ctx, query, q.SiteID, from, to, from, to)
	if err != nil {
		return nil, fmt.Errorf("count pageviews by %s: %w", q.By, err)
	}
	defer rows.Close()
	var out []store.Count
	for rows.Next() {
		var c store.Count
		if err := rows.Scan(&c.Key, &c.Pageviews); err != nil {
			return nil, fmt.Errorf("count pageviews by %s: %w", q.By, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count pageviews by %s: %w", q.By, err)
	}
	return out, nil
}

// utcDate is the UTC calendar day of t, the value of the date column.
func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func boolUInt8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// splitProps turns props into the parallel prop_keys/prop_values arrays.
func splitProps(props []store.Prop) (keys, values []string) {
	keys = make([]string, len(props))
	values = make([]string, len(props))
	for i, p := range props {
		keys[i], values[i] = p.Key, p.Value
	}
	return keys, values
}

// joinProps is the inverse of splitProps; no props give a nil slice.
func joinProps(keys, values []string) ([]store.Prop, error) {
	if len(keys) != len(values) {
		return nil, fmt.Errorf("%d prop keys but %d values", len(keys), len(values))
	}
	var props []store.Prop
	for i := range keys {
		props = append(props, store.Prop{Key: keys[i], Value: values[i]})
	}
	return props, nil
}
