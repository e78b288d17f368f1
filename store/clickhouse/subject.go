package clickhouse

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

var (
	qEventsByUser      = mustQuery("events_by_user")
	qEventsByIP        = mustQuery("events_by_ip")
	qEventsCountByUser = mustQuery("events_count_by_user")
	qEventsCountByIP   = mustQuery("events_count_by_ip")
	qEventsEraseByUser = mustQuery("events_erase_by_user")
	qEventsEraseByIP   = mustQuery("events_erase_by_ip")
)

type subjectQueries struct {
	read, count, erase string
	args               []any
}

func subjectQuery(sub store.Subject) (subjectQueries, error) {
	switch {
	case sub.ConsentID != uuid.Nil:
		return subjectQueries{qEventsByConsent, qEventsCountByConsent, qEventsEraseByConsent, []any{sub.ConsentID.String()}}, nil
	case sub.UserID != "":
		return subjectQueries{qEventsByUser, qEventsCountByUser, qEventsEraseByUser, []any{sub.UserID}}, nil
	case sub.IP != "" && sub.SiteID != 0:
		return subjectQueries{qEventsByIP, qEventsCountByIP, qEventsEraseByIP, []any{sub.SiteID, sub.IP}}, nil
	}
	return subjectQueries{}, errors.New("subject: want a consent id, a user id, or an IP with a site")
}

// SubjectEvents returns every raw event of a subject.
func (s *Store) SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error) {
	q, err := subjectQuery(sub)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, q.read, q.args...)
	if err != nil {
		return nil, fmt.Errorf("read a subject's events: %w", err)
	}
	return scanEvents(rows)
}

// EraseSubject deletes every raw event of a subject, waits until ClickHouse
// has, and returns how many there were.
func (s *Store) EraseSubject(ctx context.Context, sub store.Subject) (int64, error) {
	q, err := subjectQuery(sub)
	if err != nil {
		return 0, err
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, q.count, q.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	events, err := s.SubjectEvents(ctx, sub)
	if err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	if err := s.eraseVisits(ctx, events); err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	if err := s.mutate(ctx, "events", q.erase, q.args...); err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	return int64(n), nil
}

var qVisitsErase = mustQuery("visits_erase")

// eraseVisits deletes the visit rows of the visitor keys of a subject's
// events (every visit of those keys, in every window), before the events
// go: visit rows hold visitor keys too. The windows' rollups keep their
// counts.
func (s *Store) eraseVisits(ctx context.Context, events []store.Event) error {
	keys := store.VisitorKeys(events)
	if len(keys) == 0 {
		return nil
	}
	if err := s.mutate(ctx, "visits", qVisitsErase, keys); err != nil {
		return fmt.Errorf("erase visit rows: %w", err)
	}
	return nil
}
