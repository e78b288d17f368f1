package store

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeGoals(t *testing.T) {
	signup := Goal{Name: "Signup", Event: "Signup"}
	pricing := Goal{Name: "Pricing", Page: "/pricing"}
	stored := func(gs ...Goal) []SiteGoal {
		out := make([]SiteGoal, len(gs))
		for i, g := range gs {
			out[i] = SiteGoal{ID: fmt.Sprint(i), Goal: g}
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		configured []Goal
		stored     []SiteGoal
		want       []Goal
	}{
		{"none", nil, nil, []Goal{NotFoundGoal}},
		{"config then stored", []Goal{signup}, stored(pricing), []Goal{NotFoundGoal, signup, pricing}},
		{"the config's name wins", []Goal{signup}, stored(Goal{Name: "Signup", Page: "/signup"}, pricing), []Goal{NotFoundGoal, signup, pricing}},
		{"a configured 404 replaces the built-in", []Goal{{Name: "404", Page: "/404"}}, nil, []Goal{{Name: "404", Page: "/404"}}},
		{"a stored 404 replaces the built-in", nil, stored(Goal{Name: "404", Page: "/404"}), []Goal{{Name: "404", Page: "/404"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, MergeGoals(tc.configured, tc.stored)); diff != "" {
				t.Errorf("MergeGoals (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("at most MaxGoals", func(t *testing.T) {
		var configured []Goal
		for i := range MaxGoals {
			configured = append(configured, Goal{Name: fmt.Sprint("g", i), Event: "e"})
		}
		got := MergeGoals(configured, stored(pricing))
		if len(got) != MaxGoals || got[0].Name != NotFoundGoal.Name || got[MaxGoals-1].Name != "g48" {
			t.Errorf("got %d goals, first %v, last %v; want %d, the built-in first, g48 last", len(got), got[0], got[len(got)-1], MaxGoals)
		}
	})
}
