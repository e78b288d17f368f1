package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/store"
)

// PutGoal adds a site's goal, or changes the one with its id.
func (s *Store) PutGoal(ctx context.Context, g store.SiteGoal) error {
	if _, err := s.db.ExecContext(ctx, s.query("goal_put"), g.ID, g.SiteID, g.Name, g.Page, g.Event, g.PropsJSON(), g.Author, g.CreatedAt.Unix()); err != nil {
		return fmt.Errorf("put goal: %w", err)
	}
	return nil
}

// DeleteGoal removes one goal of a site; store.ErrNotFound if the site
// has none with that id.
func (s *Store) DeleteGoal(ctx context.Context, siteID uint32, id string) error {
	return s.deleteOne(ctx, "goal_delete", siteID, id)
}

// Goals returns the goals added to a site through the admin API, by name.
func (s *Store) Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error) {
	rows, err := s.db.QueryContext(ctx, s.query("goals"), siteID)
	if err != nil {
		return nil, fmt.Errorf("read goals: %w", err)
	}
	defer rows.Close()
	var out []store.SiteGoal
	for rows.Next() {
		var g store.SiteGoal
		var props string
		var created int64
		if err := rows.Scan(&g.ID, &g.SiteID, &g.Name, &g.Page, &g.Event, &props, &g.Author, &created); err != nil {
			return nil, fmt.Errorf("read goals: %w", err)
		}
		if err := g.SetPropsJSON(props); err != nil {
			return nil, fmt.Errorf("read goals: %w", err)
		}
		g.CreatedAt = time.Unix(created, 0).UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read goals: %w", err)
	}
	return out, nil
}
