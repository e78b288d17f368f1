package store

import (
	"fmt"
	"regexp"
	"strings"
)

// DimGoal is the goals dimension: an event dimension whose values are the
// names of the goals an event reached (FilteredBreakdownQuery.Goals). A
// visit reached a goal when one of its events did.
const DimGoal = "goal"

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

// Limits of goals.
const (
	MaxGoals       = 50
	MaxGoalName    = 80
	MaxGoalProps   = 20
	maxGoalPageLen = 1024
)

// Validate checks a goal as the config and the admin API take it.
func (g Goal) Validate() error {
	if g.Name == "" || len(g.Name) > MaxGoalName || strings.ContainsAny(g.Name, ";\n") {
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
