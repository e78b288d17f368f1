package web_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/footfall/footfall/web"
)

// Size budgets, gzip-compressed, as served.
const (
	trackerBudget = 1500 // the tracker every page loads
	consentBudget = 6000 // the consent script with the banner and its CSS, loaded when deciding
)

func TestSizeBudget(t *testing.T) {
	b, err := web.Build()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := readFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name   string
		row    string // its row in README.md's table of sizes
		asset  web.Asset
		budget int
	}{
		{"tracker", "tracker", b.Tracker, trackerBudget},
		{"consent+banner", "consent script + banner + CSS", b.Consent, consentBudget},
	} {
		line := fmt.Sprintf("size %-15s source %6d B, minified %6d B, gzipped %5d B (budget %d B)",
			s.name, s.asset.Source, len(s.asset.Body), len(s.asset.Gzip), s.budget)
		t.Log(line)
		fmt.Println(line)
		if len(s.asset.Gzip) > s.budget {
			t.Errorf("%s is %d bytes gzipped, over its budget of %d", s.name, len(s.asset.Gzip), s.budget)
		}
		row := fmt.Sprintf("| %s | %s B | %s B | %s B | %s B |", s.row,
			thousands(s.asset.Source), thousands(len(s.asset.Body)), thousands(len(s.asset.Gzip)), thousands(s.budget))
		if !strings.Contains(readme, row) {
			t.Errorf("README.md's table of sizes is stale; its %s row is now:\n%s", s.row, row)
		}
	}
}

// thousands writes n with a comma between groups of three digits, as the
// README does.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
