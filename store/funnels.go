package store

import (
	"fmt"
	"slices"
	"strings"
)

// DimFunnel is the funnel dimension of FilteredBreakdownQuery.Funnel: per
// visit, one value for each step of the funnel it reached in order, "1"
// for the first step, "2" for the second, and so on, so the visitors and
// visits of value "j" are those that reached step j.
const DimFunnel = "funnel"

// Limits of funnels.
const (
	MinFunnelSteps = 2
	MaxFunnelSteps = 8
	MaxFunnels     = 20
)

// Funnel is a site's ordered sequence of goals (by name) that a visit
// reaches step by step: step j counts a visit that reached step j-1 and
// then, with a later event, the goal of step j (docs/reports.md, Funnels).
type Funnel struct {
	Name  string
	Steps []string
}

// Validate checks a funnel's shape: a name as goals have one, 2 to 8
// steps, each a goal's name. Whether the site has those goals is for
// CheckSteps: a step may name a goal added through the admin API, which
// the config file does not know.
func (f Funnel) Validate() error {
	if !validGoalName(f.Name) {
		return fmt.Errorf("name: want 1 to %d bytes without ';', got %q", MaxGoalName, f.Name)
	}
	if len(f.Steps) < MinFunnelSteps || len(f.Steps) > MaxFunnelSteps {
		return fmt.Errorf("funnel %q: steps: want %d to %d goals, got %d", f.Name, MinFunnelSteps, MaxFunnelSteps, len(f.Steps))
	}
	for _, s := range f.Steps {
		if !validGoalName(s) {
			return fmt.Errorf("funnel %q: steps: want goal names, got %q", f.Name, s)
		}
	}
	return nil
}

// CheckSteps reports the steps that name none of goals.
func (f Funnel) CheckSteps(goals []string) error {
	var unknown []string
	for _, s := range f.Steps {
		if !slices.Contains(goals, s) {
			unknown = append(unknown, fmt.Sprintf("%q", s))
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("funnel %q: steps %s: no goal of the site by that name", f.Name, strings.Join(unknown, ", "))
	}
	return nil
}

func validGoalName(name string) bool {
	return name != "" && len(name) <= MaxGoalName && !strings.ContainsAny(name, ";\n")
}
