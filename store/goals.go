package store

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DimGoal is the goals dimension: an event dimension whose values are the
// names of the goals an event reached (FilteredBreakdownQuery.Goals). A
// visit reached a goal when one of its events did.
const DimGoal = "goal"

// DimGoalRevenue is the revenue of the goals, for the report planner only
// (no API names it): an event dimension whose values are "GOAL;CURRENCY"
// for each goal an event with revenue reached (goal names hold no ";").
// Its rows of FilteredBreakdown carry the revenue events in Events and
// the sum of their amounts (store.Amount) in EngagedMS, which no click or
// custom event has otherwise.
const DimGoalRevenue = "goal_revenue"

// DimNotFound is the broken URLs dimension: an event dimension whose value
// is the page path of each click or custom event named NotFoundEvent,
// which a site's not-found page sends (footfall('event', '404')).
const DimNotFound = "not_found"

// NotFoundEvent is the event name that marks a page not found.
const NotFoundEvent = "404"

// Goal is one conversion goal of a site: a page (Page, exact or with
// wildcards) or a custom event (Event, with Props, every one of them on
// the same event). Exactly one of Page and Event is set.
type Goal struct {
	Name string
	// Page is a path; "*" stands for any characters but "/", "**" for any
	// characters. A pageview of a matching path reaches the goal.
	Page string
	// Event is a custom event's or click's name; an event of that name
	// with every one of Props reaches the goal.
	Event string
	Props []Prop
}

// NotFoundGoal is the built-in goal every site has (unless it has a goal
// of that name itself): the visits that hit a page not found, whose page
// calls footfall('event', '404') (web/README.md).
var NotFoundGoal = Goal{Name: NotFoundEvent, Event: NotFoundEvent}

// SiteGoal is a goal an admin added to a site through the admin API
// (docs/reports.md, Goals), as stored: the config file's goals are not.
type SiteGoal struct {
	ID     string // random, 32 hex digits
	SiteID uint32
	Goal
	Author    string // who added it: a user's e-mail or a token's name
	CreatedAt time.Time
}

// PropsJSON is the goal's props as the stores keep them: a JSON array of
// {"key", "value"} objects.
func (g Goal) PropsJSON() string {
	if len(g.Props) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(g.Props) // strings only: cannot fail
	return string(b)
}

// SetPropsJSON reads props as PropsJSON wrote them.
func (g *Goal) SetPropsJSON(s string) error {
	g.Props = nil
	if err := json.Unmarshal([]byte(s), &g.Props); err != nil {
		return fmt.Errorf("goal %q: props: %w", g.Name, err)
	}
	if len(g.Props) == 0 {
		g.Props = nil
	}
	return nil
}

// MergeGoals are a site's goals as the reports read them: the built-in
// NotFoundGoal (unless a goal of either kind takes its name), the config
// file's goals, then the stored ones, by name, that no configured goal's
// name shadows: the config file wins, as the operator's word. At most
// MaxGoals: the API refuses more, but a goal added to the config file
// later may push stored ones out, which are then left out last first.
func MergeGoals(configured []Goal, stored []SiteGoal) []Goal {
	named := func(name string) func(Goal) bool { return func(g Goal) bool { return g.Name == name } }
	out := slices.Clone(configured)
	for _, g := range stored {
		if !slices.ContainsFunc(out, named(g.Name)) {
			out = append(out, g.Goal)
		}
	}
	if !slices.ContainsFunc(out, named(NotFoundGoal.Name)) {
		out = append([]Goal{NotFoundGoal}, out...)
	}
	if len(out) > MaxGoals {
		out = out[:MaxGoals]
	}
	return out
}

// Limits of goals.
const (
	MaxGoals       = 50
	MaxGoalName    = 80
	MaxGoalProps   = 20
	maxGoalPageLen = 1024
)

// Validate checks a goal as the config and the admin API take it.
func (g Goal) Validate() error {
	if !validGoalName(g.Name) {
		return fmt.Errorf("name: want 1 to %d bytes without ';', got %q", MaxGoalName, g.Name)
	}
	switch {
	case (g.Page == "") == (g.Event == ""):
		return fmt.Errorf("goal %q: want exactly one of page and event", g.Name)
	case g.Page != "" && (!strings.HasPrefix(g.Page, "/") || len(g.Page) > maxGoalPageLen):
		return fmt.Errorf("goal %q: page: want a path from / of at most %d bytes, got %q", g.Name, maxGoalPageLen, g.Page)
	case g.Page != "" && len(g.Props) > 0:
		return fmt.Errorf("goal %q: props go with an event, not a page", g.Name)
	case len(g.Event) > 128:
		return fmt.Errorf("goal %q: event: at most 128 bytes", g.Name)
	case len(g.Props) > MaxGoalProps:
		return fmt.Errorf("goal %q: props: at most %d", g.Name, MaxGoalProps)
	}
	for _, p := range g.Props {
		if p.Key == "" || len(p.Key) > MaxPropKey || p.Value == "" || len(p.Value) > 512 {
			return fmt.Errorf("goal %q: props: keys 1 to %d bytes, values 1 to 512 bytes", g.Name, MaxPropKey)
		}
	}
	return nil
}

// PagePattern is the goal's page as a regular expression matching whole
// paths.
func (g Goal) PagePattern() *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i, part := range strings.Split(g.Page, "**") {
		if i > 0 {
			b.WriteString(".*")
		}
		for j, seg := range strings.Split(part, "*") {
			if j > 0 {
				b.WriteString("[^/]*")
			}
			b.WriteString(regexp.QuoteMeta(seg))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// GoalPaths are the paths of a page goal that the query's pageviews may
// have: the page itself when it has no wildcard, else the paths of paths
// that match it.
func (g Goal) GoalPaths(paths []string) []string {
	if !strings.Contains(g.Page, "*") {
		return []string{g.Page}
	}
	re := g.PagePattern()
	var out []string
	for _, p := range paths {
		if re.MatchString(p) {
			out = append(out, p)
		}
	}
	return out
}

// GoalMatch is a goal as the stores' queries take it: a page goal's paths
// resolved (Goal.GoalPaths), so that the stores compare values only.
type GoalMatch struct {
	Name  string
	Paths []string // a page goal: a pageview of one of them reaches it
	Event string   // an event goal: an event of this name with every prop
	Props []Prop
}

// NeedsPaths reports whether a goal has a wildcard page, which MatchGoals
// resolves against the paths of a period's pageviews.
func NeedsPaths(goals []Goal) bool {
	return slices.ContainsFunc(goals, func(g Goal) bool { return strings.Contains(g.Page, "*") })
}

// MatchGoals are goals as the stores' queries take them, page goals
// resolved against paths, a period's pageview paths (GoalPaths).
func MatchGoals(goals []Goal, paths []string) []GoalMatch {
	out := make([]GoalMatch, len(goals))
	for i, g := range goals {
		out[i] = GoalMatch{Name: g.Name, Event: g.Event, Props: g.Props}
		if g.Page != "" {
			out[i].Paths = g.GoalPaths(paths)
		}
	}
	return out
}
