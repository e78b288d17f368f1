package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPartnerDefaults(t *testing.T) {
	c, err := Parse([]byte("sites:\n  - domain: shop.example\n    timezone: Europe/Berlin\npartners:\n  - name: acme\n    sites: [Shop.Example]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Partner("acme")
	if !ok {
		t.Fatal("partner acme not found")
	}
	want := Partner{
		Name: "acme", Sites: []string{"shop.example"},
		Dimensions: []string{"total", "page", "referrer_host", "country"},
		Metrics:    []string{"visitors", "pageviews"},
		K:          10, BudgetPeriod: "month",
		Bounds: Bounds{MaxCells: 4, MaxVisits: 3, MaxPageviews: 10, MaxEvents: 10},
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("partner (-want +got):\n%s", diff)
	}
	if z := c.SiteZone("shop.example"); z != "Europe/Berlin" {
		t.Errorf("SiteZone = %q", z)
	}
}

func TestPartnerProblemsAreAllReported(t *testing.T) {
	yaml := `
sites:
  - domain: a.example
    timezone: Mars/Olympus
partners:
  - name: Bad Name
    sites: []
    dimensions: [page, city, ip, page]
    metrics: [visitors, revenue]
    k: 1
    epsilon: -1
    schedule: hourly
    bounds: {max_cells: -2}
  - name: ok
    sites: [a.example]
    dimensions: [region]
  - name: ok
    sites: [a.example]
    epsilon: 1
    epsilon_budget: 0.5
    budget_period: year
`
	_, err := Parse([]byte(yaml))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []string{
		"sites[0].timezone", "partners[0].name", "partners[0].sites", `unknown "ip"`, "city needs allow_city",
		"page is listed twice", `unknown "revenue"`, "partners[0].k", "partners[0].epsilon", "partners[0].schedule",
		"bounds.max_cells", "region needs allow_region", "partners[2].name: ok is listed twice",
		"partners[2].epsilon_budget", "partners[2].budget_period",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestPartnerDimensionsFollowTheTable: what a partner may list is what
// store.Dimensions marks Partner, new dimensions included.
func TestPartnerDimensionsFollowTheTable(t *testing.T) {
	for _, tc := range []struct {
		dims    string
		wantErr string // "" for none
	}{
		{"[total, utm_term, utm_content, language]", ""},
		{"[event_target]", `unknown "event_target"`},
		{"[email_open]", `unknown "email_open"`},
	} {
		t.Run(tc.dims, func(t *testing.T) {
			_, err := Parse([]byte("sites:\n  - domain: a.example\npartners:\n  - name: acme\n    sites: [a.example]\n    dimensions: " + tc.dims + "\n"))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
