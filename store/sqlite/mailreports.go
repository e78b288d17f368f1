package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// AddReportKey stores a key that signs report unsubscribe links.
func (s *Store) AddReportKey(ctx context.Context, k store.ReportKey) error {
	if _, err := s.db.ExecContext(ctx, s.query("report_key_add"), k.ID, k.Secret, k.Created.Unix()); err != nil {
		return fmt.Errorf("store report key: %w", err)
	}
	return nil
}

// ReportKeys returns the report keys, oldest first.
func (s *Store) ReportKeys(ctx context.Context) ([]store.ReportKey, error) {
	rows, err := s.db.QueryContext(ctx, s.query("report_keys"))
	if err != nil {
		return nil, fmt.Errorf("read report keys: %w", err)
	}
	defer rows.Close()
	var out []store.ReportKey
	for rows.Next() {
		var k store.ReportKey
		var created int64
		if err := rows.Scan(&k.ID, &k.Secret, &created); err != nil {
			return nil, fmt.Errorf("read report keys: %w", err)
		}
		k.Created = time.Unix(created, 0).UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report keys: %w", err)
	}
	return out, nil
}

// AddReportSend records a report sent to a recipient; recording it again
// changes nothing.
func (s *Store) AddReportSend(ctx context.Context, r store.ReportSend) error {
	if _, err := s.db.ExecContext(ctx, s.query("report_send_add"), r.SiteID, r.Schedule, r.From, r.Recipient, r.SentAt.Unix()); err != nil {
		return fmt.Errorf("record report sent: %w", err)
	}
	return nil
}

// ReportSends returns the recipients a site's report of the period starting
// on from (YYYY-MM-DD) went to, by recipient.
func (s *Store) ReportSends(ctx context.Context, siteID uint32, schedule, from string) ([]store.ReportSend, error) {
	rows, err := s.db.QueryContext(ctx, s.query("report_sends"), siteID, schedule, from)
	if err != nil {
		return nil, fmt.Errorf("read reports sent: %w", err)
	}
	defer rows.Close()
	var out []store.ReportSend
	for rows.Next() {
		var r store.ReportSend
		var at int64
		if err := rows.Scan(&r.SiteID, &r.Schedule, &r.From, &r.Recipient, &at); err != nil {
			return nil, fmt.Errorf("read reports sent: %w", err)
		}
		r.SentAt = time.Unix(at, 0).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reports sent: %w", err)
	}
	return out, nil
}

// AddReportUnsubscribe records that a recipient wants no more reports of a
// site; recording it again changes nothing.
func (s *Store) AddReportUnsubscribe(ctx context.Context, u store.ReportUnsubscribe) error {
	if _, err := s.db.ExecContext(ctx, s.query("report_unsubscribe_add"), u.SiteID, u.Recipient, u.At.Unix()); err != nil {
		return fmt.Errorf("record report unsubscribe: %w", err)
	}
	return nil
}

// ReportUnsubscribes returns the recipients who unsubscribed from a site's
// reports, by recipient.
func (s *Store) ReportUnsubscribes(ctx context.Context, siteID uint32) ([]store.ReportUnsubscribe, error) {
	rows, err := s.db.QueryContext(ctx, s.query("report_unsubscribes"), siteID)
	if err != nil {
		return nil, fmt.Errorf("read report unsubscribes: %w", err)
	}
	defer rows.Close()
	var out []store.ReportUnsubscribe
	for rows.Next() {
		var u store.ReportUnsubscribe
		var at int64
		if err := rows.Scan(&u.SiteID, &u.Recipient, &at); err != nil {
			return nil, fmt.Errorf("read report unsubscribes: %w", err)
		}
		u.At = time.Unix(at, 0).UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report unsubscribes: %w", err)
	}
	return out, nil
}
