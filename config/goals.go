package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/footfall/footfall/store"
)

// Goal is one conversion goal of a site (docs/reports.md, Goals): a page
// (exact, or with "*" for any characters but "/" and "**" for any) or a
// custom event's name, optionally with property values that must all be
// on the same event.
// The admin API's POST /api/v1/admin/goals takes the same fields as JSON.
type Goal struct {
	Name  string            `yaml:"name" json:"name"`
	Page  string            `yaml:"page" json:"page"`
	Event string            `yaml:"event" json:"event"`
	Props map[string]string `yaml:"props" json:"props"`
}

// Store is the goal as the reports read it.
func (g Goal) Store() store.Goal {
	out := store.Goal{Name: g.Name, Page: g.Page, Event: g.Event}
	for k, v := range g.Props {
		out.Props = append(out.Props, store.Prop{Key: k, Value: v})
	}
	slices.SortFunc(out.Props, func(a, b store.Prop) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// validateGoals checks a site's goals: each one valid, names unique, at
// most store.MaxGoals with the built-in store.NotFoundGoal.
func validateGoals(where string, goals []Goal) []error {
	var errs []error
	if len(goals) > store.MaxGoals-1 {
		errs = append(errs, fmt.Errorf("%s.goals: at most %d besides the built-in %q, got %d", where, store.MaxGoals-1, store.NotFoundGoal.Name, len(goals)))
	}
	return append(errs, validateNamed(where+".goals", "goal", goals, func(g Goal) (string, error) { return g.Name, g.Store().Validate() })...)
}

// validateNamed checks a list of named items of a kind (goal, funnel) at
// where: each one by check, which also gives its name, and names unique.
func validateNamed[T any](where, kind string, items []T, check func(T) (string, error)) []error {
	var errs []error
	seen := map[string]bool{}
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", where, i)
		name, err := check(item)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
		}
		if seen[name] {
			errs = append(errs, fmt.Errorf("%s: %s %q is listed twice", at, kind, name))
		}
		seen[name] = true
	}
	return errs
}

// SiteGoals are the goals of a site, by its domain, configured in the
// file; the reports read them merged with those added through the admin
// API and the built-in one (store.MergeGoals).
func (c *Config) SiteGoals(domain string) []store.Goal {
	var out []store.Goal
	for _, g := range c.SiteByDomain(domain).Goals {
		out = append(out, g.Store())
	}
	return out
}
