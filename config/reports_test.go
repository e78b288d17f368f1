package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReports(t *testing.T) {
	c, err := Parse([]byte(`sites:
  - domain: a.example
    reports:
      - schedule: weekly
        to: [ana@example.com, " bo@example.org "]
      - schedule: monthly
        to: [ana@example.com]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Report{{Schedule: "weekly", To: []string{"ana@example.com", "bo@example.org"}}, {Schedule: "monthly", To: []string{"ana@example.com"}}}
	if diff := cmp.Diff(want, c.Sites[0].Reports); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

func TestReportsReportEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`sites:
  - domain: a.example
    reports:
      - schedule: hourly
        to: [ana@example.com]
      - schedule: weekly
        to: []
      - schedule: weekly
        to: ["Ana <ana@example.com>", not-an-address, x@example.com, X@example.com]
`))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, w := range []string{
		`sites[0].reports[0].schedule: want daily, weekly, monthly, got "hourly"`,
		"sites[0].reports[1].to: want 1 to 100 addresses, got 0",
		"sites[0].reports[2].schedule: weekly is listed twice",
		"sites[0].reports[2].to[0]: want a plain address",
		"sites[0].reports[2].to[1]: want a plain address",
		"sites[0].reports[2].to[3]: listed twice",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}
