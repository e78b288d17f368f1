package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// subjectQuery picks the queries and arguments of a subject.
func subjectQuery(sub store.Subject) (read, erase string, args []any, err error) {
	switch {
	case sub.ConsentID != uuid.Nil:
		return "events_by_consent", "events_erase_by_consent", []any{sub.ConsentID.String()}, nil
	case sub.UserID != "":
		return "events_by_user", "events_erase_by_user", []any{sub.UserID}, nil
	case sub.IP != "" && sub.SiteID != 0:
		return "events_by_ip", "events_erase_by_ip", []any{sub.SiteID, sub.IP}, nil
	}
	return "", "", nil, errors.New("subject: want a consent id, a user id, or an IP with a site")
}

// SubjectEvents returns every raw event of a subject.
func (s *Store) SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error) {
	read, _, args, err := subjectQuery(sub)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.query(read), args...)
	if err != nil {
		return nil, fmt.Errorf("read a subject's events: %w", err)
	}
	return scanEvents(rows)
}

// EraseSubject deletes every raw event of a subject and returns how many.
func (s *Store) EraseSubject(ctx context.Context, sub store.Subject) (int64, error) {
	_, erase, args, err := subjectQuery(sub)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, s.query(erase), args...)
	if err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("erase a subject's events: %w", err)
	}
	return n, nil
}
