package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

func TestFunnels(t *testing.T) {
	c, err := Parse([]byte(`sites:
  - domain: a.example
    goals:
      - {name: Signup, event: Signup}
      - {name: Pricing, page: /pricing}
    funnels:
      - {name: Buy, steps: [Pricing, Signup]}
      - {name: Lost, steps: [404, Pricing]}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Funnel{{Name: "Buy", Steps: []string{"Pricing", "Signup"}}, {Name: "Lost", Steps: []string{"404", "Pricing"}}}
	if diff := cmp.Diff(want, c.SiteFunnels("a.example")); diff != "" {
		t.Errorf("funnels (-want +got):\n%s", diff)
	}
	if got := c.SiteFunnels("b.example"); len(got) != 0 {
		t.Errorf("funnels of an unlisted site: %v, want none", got)
	}
}

func TestFunnelsReportEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`sites:
  - domain: a.example
    goals:
      - {name: Signup, event: Signup}
    funnels:
      - {name: "", steps: [Signup, Signup]}
      - {name: One, steps: [Signup]}
      - {name: Nine, steps: [Signup, Signup, Signup, Signup, Signup, Signup, Signup, Signup, Signup]}
      - {name: BadStep, steps: [Signup, "a;b"]}
      - {name: Dup, steps: [Signup, 404]}
      - {name: Dup, steps: [404, Signup]}
`))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []string{"funnels[0]: name", "funnels[1]: funnel \"One\": steps: want 2 to 8", "funnels[2]: funnel \"Nine\": steps: want 2 to 8",
		"funnels[3]: funnel \"BadStep\": steps: want goal names", "funnels[5]: funnel \"Dup\" is listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPartnerFunnels(t *testing.T) {
	_, err := Parse([]byte(`sites:
  - domain: a.example
    goals: [{name: Signup, event: Signup}]
    funnels: [{name: Buy, steps: [404, Signup]}]
partners:
  - {name: ok, sites: [a.example], funnels: [Buy]}
  - {name: unknown, sites: [a.example], funnels: [Sell]}
  - {name: novisitors, sites: [a.example], metrics: [pageviews], funnels: [Buy]}
  - {name: twice, sites: [a.example], funnels: [Buy, Buy]}
`))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []string{"partners[1].funnels: \"Sell\" is no funnel", "partners[2].funnels: funnel tables count visitors", "partners[3].funnels: Buy is listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "partners[0]") {
		t.Errorf("error %q names the valid partner", err)
	}
}
