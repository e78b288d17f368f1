package clickhouse

import (
	"context"
	"fmt"

	"github.com/footfall/footfall/store"
)

var (
	qReportKeyAdd         = mustQuery("report_key_add")
	qReportKeys           = mustQuery("report_keys")
	qReportSendAdd        = mustQuery("report_send_add")
	qReportSends          = mustQuery("report_sends")
	qReportUnsubscribeAdd = mustQuery("report_unsubscribe_add")
	qReportUnsubscribes   = mustQuery("report_unsubscribes")
)

// AddReportKey stores a key that signs report unsubscribe links.
func (s *Store) AddReportKey(ctx context.Context, k store.ReportKey) error {
	if err := s.insertOne(ctx, qReportKeyAdd, k.ID, string(k.Secret), k.Created.UTC()); err != nil {
		return fmt.Errorf("store report key: %w", err)
	}
	return nil
}

// ReportKeys returns the report keys, oldest first.
func (s *Store) ReportKeys(ctx context.Context) ([]store.ReportKey, error) {
	rows, err := s.conn.Query(ctx, qReportKeys)
	if err != nil {
		return nil, fmt.Errorf("read report keys: %w", err)
	}
	defer rows.Close()
	var out []store.ReportKey
	for rows.Next() {
		var k store.ReportKey
		var secret string
		if err := rows.Scan(&k.ID, &secret, &k.Created); err != nil {
			return nil, fmt.Errorf("read report keys: %w", err)
		}
		k.Secret, k.Created = []byte(secret), k.Created.UTC()
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report keys: %w", err)
	}
	return out, nil
}

// AddReportSend records a report sent to a recipient; readers see a
// recipient once however often it is recorded.
func (s *Store) AddReportSend(ctx context.Context, r store.ReportSend) error {
	if err := s.insertOne(ctx, qReportSendAdd, r.SiteID, r.Schedule, r.From, r.Recipient, r.SentAt.UTC()); err != nil {
		return fmt.Errorf("record report sent: %w", err)
	}
	return nil
}

// ReportSends returns the recipients a site's report of the period starting
// on from (YYYY-MM-DD) went to, by recipient.
func (s *Store) ReportSends(ctx context.Context, siteID uint32, schedule, from string) ([]store.ReportSend, error) {
	rows, err := s.conn.Query(ctx, qReportSends, siteID, schedule, from)
	if err != nil {
		return nil, fmt.Errorf("read reports sent: %w", err)
	}
	defer rows.Close()
	var out []store.ReportSend
	for rows.Next() {
		var r store.ReportSend
		if err := rows.Scan(&r.SiteID, &r.Schedule, &r.From, &r.Recipient, &r.SentAt); err != nil {
			return nil, fmt.Errorf("read reports sent: %w", err)
		}
		r.SentAt = r.SentAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reports sent: %w", err)
	}
	return out, nil
}

// AddReportUnsubscribe records that a recipient wants no more reports of a
// site; readers see a recipient once however often it is recorded.
func (s *Store) AddReportUnsubscribe(ctx context.Context, u store.ReportUnsubscribe) error {
	if err := s.insertOne(ctx, qReportUnsubscribeAdd, u.SiteID, u.Recipient, u.At.UTC()); err != nil {
		return fmt.Errorf("record report unsubscribe: %w", err)
	}
	return nil
}

// ReportUnsubscribes returns the recipients who unsubscribed from a site's
// reports, by recipient.
func (s *Store) ReportUnsubscribes(ctx context.Context, siteID uint32) ([]store.ReportUnsubscribe, error) {
	rows, err := s.conn.Query(ctx, qReportUnsubscribes, siteID)
	if err != nil {
		return nil, fmt.Errorf("read report unsubscribes: %w", err)
	}
	defer rows.Close()
	var out []store.ReportUnsubscribe
	for rows.Next() {
		var u store.ReportUnsubscribe
		if err := rows.Scan(&u.SiteID, &u.Recipient, &u.At); err != nil {
			return nil, fmt.Errorf("read report unsubscribes: %w", err)
		}
		u.At = u.At.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read report unsubscribes: %w", err)
	}
	return out, nil
}
