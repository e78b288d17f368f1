package clickhouse

import (
	"context"
	"fmt"
	"slices"

	"github.com/footfall/footfall/store"
)

var (
	qGoalPut = mustQuery("goal_put")
	qGoals   = mustQuery("goals")
)

// PutGoal adds a site's goal, or changes the one with its id.
func (s *Store) PutGoal(ctx context.Context, g store.SiteGoal) error {
	if err := s.putGoal(ctx, g, accessVersion()); err != nil {
		return fmt.Errorf("put goal: %w", err)
	}
	return nil
}

// DeleteGoal removes one goal of a site; store.ErrNotFound if the site
// has none with that id.
func (s *Store) DeleteGoal(ctx context.Context, siteID uint32, id string) error {
	all, err := s.Goals(ctx, siteID)
	if err != nil {
		return fmt.Errorf("delete goal: %w", err)
	}
	i := slices.IndexFunc(all, func(g store.SiteGoal) bool { return g.ID == id })
	if i < 0 {
		return fmt.Errorf("delete goal: %w", store.ErrNotFound)
	}
	if err := s.putGoal(ctx, all[i], accessTombstone()); err != nil {
		return fmt.Errorf("delete goal: %w", err)
	}
	return nil
}

func (s *Store) putGoal(ctx context.Context, g store.SiteGoal, version uint64) error {
	deleted := uint8(version >> 63)
	return s.insertOne(ctx, qGoalPut, g.ID, g.SiteID, g.Name, g.Page, g.Event, g.PropsJSON(), g.Author, g.CreatedAt.UTC(), deleted, version)
}

// Goals returns the goals added to a site through the admin API, by name.
func (s *Store) Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error) {
	rows, err := s.conn.Query(ctx, qGoals, siteID)
	if err != nil {
		return nil, fmt.Errorf("read goals: %w", err)
	}
	defer rows.Close()
	var out []store.SiteGoal
	for rows.Next() {
		var g store.SiteGoal
		var props string
		if err := rows.Scan(&g.ID, &g.SiteID, &g.Name, &g.Page, &g.Event, &props, &g.Author, &g.CreatedAt); err != nil {
			return nil, fmt.Errorf("read goals: %w", err)
		}
		if err := g.SetPropsJSON(props); err != nil {
			return nil, fmt.Errorf("read goals: %w", err)
		}
		g.CreatedAt = g.CreatedAt.UTC()
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read goals: %w", err)
	}
	return out, nil
}
