package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// subjectQuery picks the queries and arguments of a subject.
func subjectQuery(sub store.Subject) (read, match string, args []any, err error) {
	switch {
	case sub.ConsentID != uuid.Nil:
		return "events_by_consent", "events_match_consent", []any{sql.Named("consent", sub.ConsentID.String())}, nil
	case sub.UserID != "":
		return "events_by_user", "events_match_user", []any{sql.Named("user", sub.UserID)}, nil
	case sub.IP != "" && sub.SiteID != 0:
		return "events_by_ip", "events_match_ip", []any{sql.Named("site", sub.SiteID), sql.Named("ip", sub.IP)}, nil
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
	_, match, args, err := subjectQuery(sub)
	if err != nil {
		return 0, err
	}
	// Visit rows hold visitor keys too: every visit of the keys of the
	// subject's events goes first (the windows' rollups keep their counts).
	if _, err := s.inSlices(ctx, "events", match, "visits_erase_rowids", args...); err != nil {
		return 0, fmt.Errorf("erase a subject's visit rows: %w", err)
	}
	n, err := s.inSlices(ctx, "events", match, "events_delete_rowids", args...)
	if err != nil {
		return n, fmt.Errorf("erase a subject's events: %w", err)
	}
	return n, nil
}
