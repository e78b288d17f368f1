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

func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Amount
		out  string
	}{
		{"19.90", 199000, "19.90"},
		{"19.9", 199000, "19.90"},
		{"5", 50000, "5.00"},
		{"0", 0, "0.00"},
		{"0.0001", 1, "0.0001"},
		{"12.345", 123450, "12.345"},
		{"1000000000", MaxAmount, "1000000000.00"},
	} {
		got, err := ParseAmount(tc.in)
		if err != nil || got != tc.want || got.String() != tc.out {
			t.Errorf("ParseAmount(%q) = %d (%s), %v; want %d (%s)", tc.in, got, got, err, tc.want, tc.out)
		}
	}
	for _, bad := range []string{"", "-1", "1.", ".5", "1.00001", "1e3", "1,50", " 1", "1000000000.01", "99999999999", "0x10", "+1"} {
		if _, err := ParseAmount(bad); err == nil {
			t.Errorf("ParseAmount(%q): no error", bad)
		}
	}
	for c, want := range map[string]bool{"EUR": true, "USD": true, "eur": false, "EU": false, "EURO": false, "E1R": false, "": false} {
		if ValidCurrency(c) != want {
			t.Errorf("ValidCurrency(%q) = %v", c, !want)
		}
	}
}
