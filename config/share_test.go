package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShareRelease(t *testing.T) {
	c, err := Parse([]byte(`
sites:
  - domain: shop.example
    share: {k: 5, epsilon: 1, dimensions: [total, page]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, domain string
		want         Partner
	}{
		{"configured", "shop.example", Partner{
			Name: "share:shop.example", Sites: []string{"shop.example"}, Dimensions: []string{"total", "page"},
			Metrics: []string{"visitors", "pageviews"}, K: 5, Epsilon: 1, EpsilonBudget: 10, BudgetPeriod: "month",
			Bounds: Bounds{MaxCells: 4, MaxVisits: 3, MaxPageviews: 10, MaxEvents: 10},
		}},
		{"not in the file: defaults", "blog.example", Partner{
			Name: "share:blog.example", Sites: []string{"blog.example"}, Dimensions: []string{"total", "page", "referrer_host", "country"},
			Metrics: []string{"visitors", "pageviews"}, K: DefaultK, BudgetPeriod: "month",
			Bounds: Bounds{MaxCells: 4, MaxVisits: 3, MaxPageviews: 10, MaxEvents: 10},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, c.ShareRelease(tt.domain)); diff != "" {
				t.Errorf("ShareRelease (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShareProblemsAreReported(t *testing.T) {
	_, err := Parse([]byte(`
sites:
  - domain: shop.example
    share: {k: 1, epsilon: -1, dimensions: [city], budget_period: year}
`))
	if err == nil {
		t.Fatal("Parse accepted an invalid share block")
	}
	for _, want := range []string{"sites[0].share.k", "sites[0].share.epsilon", "sites[0].share.dimensions", "sites[0].share.budget_period"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
