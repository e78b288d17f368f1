package web_test

import (
	"fmt"
	"os"
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
	for _, s := range []struct {
		name   string
		asset  web.Asset
		budget int
	}{
		{"tracker", b.Tracker, trackerBudget},
		{"consent+banner", b.Consent, consentBudget},
	} {
		line := fmt.Sprintf("size %-15s source %6d B, minified %6d B, gzipped %5d B (budget %d B)",
			s.name, s.asset.Source, len(s.asset.Body), len(s.asset.Gzip), s.budget)
		t.Log(line)
		fmt.Println(line)
		if len(s.asset.Gzip) > s.budget {
			t.Errorf("%s is %d bytes gzipped, over its budget of %d", s.name, len(s.asset.Gzip), s.budget)
		}
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
