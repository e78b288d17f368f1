package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/pace"
)

// InsertEvents stores events in one transaction. An event whose id is already
// stored is skipped, so a replayed batch is stored once.
//
// Rows go rowsPerInsert at a time, in one multi-row INSERT (the statement
// of insert_event.sql with its VALUES tuple repeated): a statement per row
// costs its own bind, step and reset through database/sql and the driver.
func (s *Store) InsertEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	defer tx.Rollback()
	var full *sql.Stmt // the statement for rowsPerInsert rows, prepared once
	args := make([]any, 0, min(len(events), rowsPerInsert)*eventParams)
	pacer := pace.New(ctx, writerShare)
	defer pacer.Stop()
	for start := 0; start < len(events); start += rowsPerInsert {
		chunk := events[start:min(start+rowsPerInsert, len(events))]
		args = args[:0]
		for i := range chunk {
			e := &chunk[i]
			props, err := encodeProps(e.Props)
			if err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
			args = append(args,
				e.ID.String(), e.SiteID, string(e.Type), e.Time.Unix(), e.ReceivedAt.Unix(),
				e.Host, e.Path, e.Query, e.Referrer, e.ReferrerHost, e.Source,
				e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMTerm, e.UTMContent, e.ClickID,
				e.IP, e.IPTrunc, int64(e.VisitorKey), e.KeyVersion, int64(e.SessionID), e.UserID,
				consentIDText(e.ConsentID), e.Consent, e.PolicyVersion, e.GPC,
				e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device, e.ScreenWidth,
				e.Country, e.Region, e.City, e.ASN, e.ISP,
				e.Name, e.Target, props, e.EngagedMS, e.Bot, e.BotReason, e.Language,
				int64(e.RevenueAmount), e.RevenueCurrency, e.ScrollDepth,
			)
		}
		if len(args) != len(chunk)*eventParams {
			return fmt.Errorf("insert events: %d values for %d rows of %d columns", len(args), len(chunk), eventParams)
		}
		if len(chunk) == rowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, s.insertEventsQuery(rowsPerInsert)); err != nil {
					return fmt.Errorf("insert events: %w", err)
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, s.insertEventsQuery(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		// SQLite runs on this goroutine's core: let the request
		// goroutines in between statements (a few milliseconds each),
		// through a pause (runtime.Gosched would keep them waiting for
		// the network poll: see pace).
		if err := pacer.Yield(ctx); err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// rowsPerInsert is how many rows one INSERT statement writes; with
// eventParams parameters a row it stays far below SQLite's limit of 32766
// parameters a statement.
const rowsPerInsert = 64

// writerShare is about how much of its core InsertEvents takes while it
// runs under a context marked by pace.Share (the collector's writer): it
// pauses between statements as long as the statement took.
const writerShare = 0.5

// insertEventsQuery is insert_event.sql for rows rows: its VALUES tuple
// repeated. Nothing of the input goes into the text.
func (s *Store) insertEventsQuery(rows int) string {
	q := s.query("insert_event")
	i := strings.LastIndex(q, "VALUES")
	tuple := strings.TrimSuffix(strings.TrimSpace(q[i+len("VALUES"):]), ";")
	var b strings.Builder
	b.Grow(i + len("VALUES ") + rows*(len(tuple)+2))
	b.WriteString(q[:i])
	b.WriteString("VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// Events returns one site's events in [From, To), by time.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.query("events"), q.SiteID, q.From.Unix(), q.To.Unix())
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return scanEvents(rows)
}

// EventsByConsent returns every stored event that a consent id allowed.
func (s *Store) EventsByConsent(ctx context.Context, consentID uuid.UUID) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.query("events_by_consent"), sql.Named("consent", consentID.String()))
	if err != nil {
		return nil, fmt.Errorf("read events of a consent: %w", err)
	}
	return scanEvents(rows)
}

// EraseEventsByConsent deletes every event a consent id allowed and returns
// how many there were.
func (s *Store) EraseEventsByConsent(ctx context.Context, consentID uuid.UUID) (int64, error) {
	return s.EraseSubject(ctx, store.Subject{ConsentID: consentID})
}

func scanEvents(rows *sql.Rows) ([]store.Event, error) {
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var (
			e                  store.Event
			id, typ, consentID string
			ts, received       int64
			visitor, session   int64
			props              string
			amount             int64
		)
		if err := rows.Scan(
			&id, &e.SiteID, &typ, &ts, &received,
			&e.Host, &e.Path, &e.Query, &e.Referrer, &e.ReferrerHost, &e.Source,
			&e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &e.UTMTerm, &e.UTMContent, &e.ClickID,
			&e.IP, &e.IPTrunc, &visitor, &e.KeyVersion, &session, &e.UserID,
			&consentID, &e.Consent, &e.PolicyVersion, &e.GPC,
			&e.Browser, &e.BrowserVersion, &e.OS, &e.OSVersion, &e.Device, &e.ScreenWidth,
			&e.Country, &e.Region, &e.City, &e.ASN, &e.ISP,
			&e.Name, &e.Target, &props, &e.EngagedMS, &e.Bot, &e.BotReason, &e.Language,
			&amount, &e.RevenueCurrency, &e.ScrollDepth,
		); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		var err error
		if e.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("read events: event id: %w", err)
		}
		if consentID != "" {
			if e.ConsentID, err = uuid.Parse(consentID); err != nil {
				return nil, fmt.Errorf("read events: consent id: %w", err)
			}
		}
		e.Type = store.EventType(typ)
		e.Time = time.Unix(ts, 0).UTC()
		e.ReceivedAt = time.Unix(received, 0).UTC()
		e.VisitorKey = uint64(visitor)
		e.SessionID = uint64(session)
		e.RevenueAmount = store.Amount(amount)
		if e.Props, err = decodeProps(props); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// countQueries names the embedded query of each dimension.
var countQueries = map[store.Dimension]string{
	store.ByDay:          "count_by_day",
	store.ByPath:         "count_by_path",
	store.ByReferrerHost: "count_by_referrer_host",
}

// PageviewCounts counts one site's pageviews in [From, To) by one dimension.
func (s *Store) PageviewCounts(ctx context.Context, q store.CountQuery) ([]store.Count, error) {
	name, ok := countQueries[q.By]
	if !ok {
		return nil, fmt.Errorf("count pageviews: unknown dimension %q", q.By)
	}
	rows, err := s.db.QueryContext(ctx, s.query(name), q.SiteID, q.From.Unix(), q.To.Unix())
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

func consentIDText(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// Props are stored as a JSON array of [key, value] pairs, keeping their order.
func encodeProps(props []store.Prop) (string, error) {
	pairs := make([][2]string, len(props))
	for i, p := range props {
		pairs[i] = [2]string{p.Key, p.Value}
	}
	b, err := json.Marshal(pairs)
	if err != nil {
		return "", fmt.Errorf("encode props: %w", err)
	}
	return string(b), nil
}

func decodeProps(s string) ([]store.Prop, error) {
	var pairs [][2]string
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, fmt.Errorf("decode props: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	props := make([]store.Prop, len(pairs))
	for i, p := range pairs {
		props[i] = store.Prop{Key: p[0], Value: p[1]}
	}
	return props, nil
}
