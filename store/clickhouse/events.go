package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/pace"
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
//
// The batch is filled a column at a time (batch.Column(i).Append with a
// typed slice), insertChunk rows per call: a row-wise batch.Append boxes
// every value into an interface and converts it by reflection. A block is
// sent every insertBlock rows. Under a context marked by pace.Share (the
// collector's writer) it pauses between chunks, three times as long as the
// chunk took, so that on a busy core the request goroutines are not held
// up for the whole batch.
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
	cols := batch.Columns()
	if len(cols) != len(eventColumns) {
		return fmt.Errorf("insert events: the statement has %d columns, InsertEvents fills %d", len(cols), len(eventColumns))
	}
	bcs := make([]driver.BatchColumn, len(cols))
	lowCard := make([]bool, len(cols))
	for i, c := range cols {
		if c.Name() != eventColumns[i].name {
			return fmt.Errorf("insert events: column %d is %s, InsertEvents fills %s there", i, c.Name(), eventColumns[i].name)
		}
		bcs[i] = batch.Column(i)
		lowCard[i] = strings.HasPrefix(string(c.Type()), "LowCardinality(")
	}
	var sc columnScratch
	pacer := pace.New(ctx, writerShare)
	defer pacer.Stop()
	for start := 0; start < len(events); start += insertChunk {
		end := min(start+insertChunk, len(events))
		chunk := events[start:end]
		for i, c := range eventColumns {
			if err := appendColumn(bcs[i], lowCard[i], c.values(&sc, chunk)); err != nil {
				return fmt.Errorf("insert events: column %s, rows %d to %d: %w", c.name, start, end-1, err)
			}
		}
		// Send a block every insertBlock rows: the server squashes the
		// blocks of one INSERT into one part (checked on 18.16: the 20
		// blocks of a 20,000-row batch made 1 part), and the client's
		// column buffers stay a block's size instead of the batch's.
		if end%insertBlock == 0 && end < len(events) {
			if err := batch.Flush(); err != nil {
				return fmt.Errorf("insert events: rows up to %d: %w", end-1, err)
			}
		}
		if err := pacer.Yield(ctx); err != nil {
			return fmt.Errorf("insert events: rows up to %d: %w", end-1, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert events: send %d rows: %w", len(events), err)
	}
	return nil
}

// appendColumn appends a chunk's values to a column. A LowCardinality
// column takes a slice by reflection, one value at a time; it is faster fed
// the values one by one.
func appendColumn(bc driver.BatchColumn, lowCard bool, values any) error {
	if strs, ok := values.([]string); ok && lowCard {
		for _, s := range strs {
			if err := bc.AppendRow(s); err != nil {
				return err
			}
		}
		return nil
	}
	return bc.Append(values)
}

// insertChunk is how many rows InsertEvents appends to a column at once,
// between two pauses: about half a millisecond of work. A block of
// insertBlock rows is sent at a time. While it writes, the writer takes
// about writerShare of its core: a quarter, like the garbage collector's
// background work, and about three times what it needs when requests
// saturate the core (the client's ~4 µs an event of ~50 µs a request).
const (
	insertChunk = 128
	insertBlock = 8 * insertChunk
	writerShare = 0.25
)

// columnScratch holds the typed slices a chunk's columns are built in,
// reused from chunk to chunk and column to column (the client copies what
// it is given).
type columnScratch struct {
	strs    []string
	uuids   []uuid.UUID
	times   []time.Time
	u8      []uint8
	u16     []uint16
	u32     []uint32
	u64     []uint64
	arrays  [][]string
	propBuf []string
}

// eventColumns are the columns of a raw event, in the order of
// queries/events_insert.sql and of scanEvents, each with how to build its
// values from a chunk of events. Every query names them from here
// ({{event_columns}}, eventColumnList): adding a column is a row here, its
// place in scanEvents and a migration.
var eventColumns = []struct {
	name   string
	values func(sc *columnScratch, events []store.Event) any
}{
	{"event_id", uuids(func(e *store.Event) uuid.UUID { return e.ID })},
	{"site_id", u32s(func(e *store.Event) uint32 { return e.SiteID })},
	{"type", strs(func(e *store.Event) string { return string(e.Type) })},
	{"ts", times(func(e *store.Event) time.Time { return e.Time.UTC() })},
	{"received_at", times(func(e *store.Event) time.Time { return e.ReceivedAt.UTC() })},
	{"host", strs(func(e *store.Event) string { return e.Host })},
	{"path", strs(func(e *store.Event) string { return e.Path })},
	{"query", strs(func(e *store.Event) string { return e.Query })},
	{"referrer", strs(func(e *store.Event) string { return e.Referrer })},
	{"referrer_host", strs(func(e *store.Event) string { return e.ReferrerHost })},
	{"source", strs(func(e *store.Event) string { return e.Source })},
	{"utm_source", strs(func(e *store.Event) string { return e.UTMSource })},
	{"utm_medium", strs(func(e *store.Event) string { return e.UTMMedium })},
	{"utm_campaign", strs(func(e *store.Event) string { return e.UTMCampaign })},
	{"utm_term", strs(func(e *store.Event) string { return e.UTMTerm })},
	{"utm_content", strs(func(e *store.Event) string { return e.UTMContent })},
	{"click_id", strs(func(e *store.Event) string { return e.ClickID })},
	{"ip", strs(func(e *store.Event) string { return e.IP })},
	{"ip_trunc", strs(func(e *store.Event) string { return e.IPTrunc })},
	{"visitor_key", u64s(func(e *store.Event) uint64 { return e.VisitorKey })},
	{"key_version", u8s(func(e *store.Event) uint8 { return e.KeyVersion })},
	{"session_id", u64s(func(e *store.Event) uint64 { return e.SessionID })},
	{"user_id", strs(func(e *store.Event) string { return e.UserID })},
	{"consent_id", uuids(func(e *store.Event) uuid.UUID { return e.ConsentID })},
	{"consent", u8s(func(e *store.Event) uint8 { return uint8(e.Consent) })},
	{"policy_version", strs(func(e *store.Event) string { return e.PolicyVersion })},
	{"gpc", u8s(func(e *store.Event) uint8 { return boolUInt8(e.GPC) })},
	{"browser", strs(func(e *store.Event) string { return e.Browser })},
	{"browser_version", strs(func(e *store.Event) string { return e.BrowserVersion })},
	{"os", strs(func(e *store.Event) string { return e.OS })},
	{"os_version", strs(func(e *store.Event) string { return e.OSVersion })},
	{"device", strs(func(e *store.Event) string { return e.Device })},
	{"screen_width", u16s(func(e *store.Event) uint16 { return e.ScreenWidth })},
	{"country", strs(func(e *store.Event) string { return e.Country })},
	{"region", strs(func(e *store.Event) string { return e.Region })},
	{"city", strs(func(e *store.Event) string { return e.City })},
	{"asn", u32s(func(e *store.Event) uint32 { return e.ASN })},
	{"isp", strs(func(e *store.Event) string { return e.ISP })},
	{"name", strs(func(e *store.Event) string { return e.Name })},
	{"target", strs(func(e *store.Event) string { return e.Target })},
	{"prop_keys", propArrays(func(p store.Prop) string { return p.Key })},
	{"prop_values", propArrays(func(p store.Prop) string { return p.Value })},
	{"engaged_ms", u32s(func(e *store.Event) uint32 { return e.EngagedMS })},
	{"bot", u8s(func(e *store.Event) uint8 { return boolUInt8(e.Bot) })},
	{"bot_reason", strs(func(e *store.Event) string { return e.BotReason })},
	{"language", strs(func(e *store.Event) string { return e.Language })},
	{"revenue_amount", u64s(func(e *store.Event) uint64 { return uint64(e.RevenueAmount) })},
	{"revenue_currency", strs(func(e *store.Event) string { return e.RevenueCurrency })},
	{"scroll_depth", u8s(func(e *store.Event) uint8 { return e.ScrollDepth })},
	{"date", times(func(e *store.Event) time.Time { return utcDate(e.Time) })},
}

// eventColumnList is what {{event_columns}} stands for in the queries:
// every column of eventColumns but the partition date, which only the
// insert writes (events_insert.sql names it after them).
func eventColumnList() string {
	names := make([]string, 0, len(eventColumns))
	for _, c := range eventColumns {
		if c.name != "date" {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// fill returns buf resized to len(events), holding f of each event.
func fill[T any](buf *[]T, events []store.Event, f func(e *store.Event) T) []T {
	s := (*buf)[:0]
	for i := range events {
		s = append(s, f(&events[i]))
	}
	*buf = s
	return s
}

func strs(f func(*store.Event) string) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.strs, events, f) }
}

func uuids(f func(*store.Event) uuid.UUID) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.uuids, events, f) }
}

func times(f func(*store.Event) time.Time) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.times, events, f) }
}

func u8s(f func(*store.Event) uint8) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.u8, events, f) }
}

func u16s(f func(*store.Event) uint16) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.u16, events, f) }
}

func u32s(f func(*store.Event) uint32) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.u32, events, f) }
}

func u64s(f func(*store.Event) uint64) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any { return fill(&sc.u64, events, f) }
}

// propArrays builds one of the parallel prop_keys/prop_values columns. The
// arrays of a chunk share one backing slice.
func propArrays(f func(store.Prop) string) func(*columnScratch, []store.Event) any {
	return func(sc *columnScratch, events []store.Event) any {
		arrays, buf := sc.arrays[:0], sc.propBuf[:0]
		for i := range events {
			start := len(buf)
			for _, p := range events[i].Props {
				buf = append(buf, f(p))
			}
			arrays = append(arrays, buf[start:len(buf):len(buf)])
		}
		sc.arrays, sc.propBuf = arrays, buf
		return arrays
	}
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
			granted      uint8
			keys, values []string
			amount       uint64
		)
		err := rows.Scan(
			&e.ID, &e.SiteID, &typ, &e.Time, &e.ReceivedAt,
			&e.Host, &e.Path, &e.Query, &e.Referrer, &e.ReferrerHost, &e.Source,
			&e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &e.UTMTerm, &e.UTMContent, &e.ClickID,
			&e.IP, &e.IPTrunc, &e.VisitorKey, &e.KeyVersion, &e.SessionID, &e.UserID,
			&e.ConsentID, &granted, &e.PolicyVersion, &gpc,
			&e.Browser, &e.BrowserVersion, &e.OS, &e.OSVersion, &e.Device, &e.ScreenWidth,
			&e.Country, &e.Region, &e.City, &e.ASN, &e.ISP,
			&e.Name, &e.Target, &keys, &values, &e.EngagedMS, &bot, &e.BotReason, &e.Language,
			&amount, &e.RevenueCurrency, &e.ScrollDepth,
		)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.Type = store.EventType(typ)
		e.Time, e.ReceivedAt = e.Time.UTC(), e.ReceivedAt.UTC()
		e.GPC, e.Bot = gpc != 0, bot != 0
		e.Consent = store.Categories(granted)
		e.RevenueAmount = store.Amount(amount)
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

// joinProps turns the parallel prop_keys/prop_values arrays into props;
// no props give a nil slice.
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
