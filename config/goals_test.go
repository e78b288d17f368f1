package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

func TestGoals(t *testing.T) {
	c, err := Parse([]byte(`sites:
  - domain: a.example
    goals:
      - {name: Signup, event: Signup, props: {plan: pro, ab: b}}
      - {name: Blog, page: /blog/**}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Goal{
		{Name: "Signup", Event: "Signup", Props: []store.Prop{{Key: "ab", Value: "b"}, {Key: "plan", Value: "pro"}}},
		{Name: "Blog", Page: "/blog/**"},
	}
	if diff := cmp.Diff(want, c.SiteGoals("a.example")); diff != "" {
		t.Errorf("goals (-want +got):\n%s", diff)
	}
	if got := c.SiteGoals("b.example"); len(got) != 0 {
		t.Errorf("goals of an unlisted site: %v, want none", got)
	}
}

func TestGoalsReportEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`sites:
  - domain: a.example
    goals:
      - {name: "", event: A}
      - {name: Both, event: A, page: /}
      - {name: Neither}
      - {name: Relative, page: blog}
      - {name: PageProps, page: /, props: {a: b}}
      - {name: Dup, event: A}
      - {name: Dup, event: B}
      - {name: "a;b", event: A}
`))
	if err == nil {
		t.Fatal("got no error")
	}
	for _, want := range []string{"goals[0]: name", "goals[1]: goal \"Both\": want exactly one", "goals[2]: goal \"Neither\"",
		"goals[3]: goal \"Relative\": page", "goals[4]: goal \"PageProps\": props", "goals[6]: goal \"Dup\" is listed twice", "goals[7]: name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
