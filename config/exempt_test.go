package config

import (
	"strings"
	"testing"
)

// TestExemptForbiddenCombinations is the table of configurations that break
// a condition of consent-exempt measurement: each is refused, and the error
// names the field, the site and the condition.
func TestExemptForbiddenCombinations(t *testing.T) {
	const site = "sites:\n  - domain: shop.example\n    exempt: true\n"
	tests := []struct {
		name  string
		yaml  string
		field string
		cond  ExemptCondition
	}{
		{"shared with a partner", site + "partners:\n  - name: acme\n    sites: [Shop.Example]\n",
			"partners.acme.sites", NoPartnerSharing},
		{"raw events kept over 25 months", site + "retention:\n  raw_events_days: 761\n",
			"retention.raw_events_days", RetentionLimit},
		{"GPC ignored", "sites:\n  - domain: shop.example\n    exempt: true\n    consent:\n      gpc: ignore\n",
			"consent.gpc", OptOutHonoured},
		{"DNT ignored", "sites:\n  - domain: shop.example\n    exempt: true\n    consent:\n      dnt: ignore\n",
			"consent.dnt", OptOutHonoured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range []string{"sites[0] (shop.example) is exempt", tt.field, string(tt.cond)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			// The same settings are fine on a site that is not exempt.
			if _, err := Parse([]byte(strings.Replace(tt.yaml, "exempt: true", "exempt: false", 1))); err != nil {
				t.Errorf("refused without exempt: %v", err)
			}
		})
	}
}

func TestExemptAllowed(t *testing.T) {
	c, err := Parse([]byte("sites:\n  - domain: shop.example\n    exempt: true\n  - domain: other.example\n" +
		"partners:\n  - name: acme\n    sites: [other.example]\nretention:\n  raw_events_days: 760\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sites[0].Exempt || c.Sites[1].Exempt {
		t.Errorf("exempt = %v, %v; want true, false", c.Sites[0].Exempt, c.Sites[1].Exempt)
	}
	// Every problem is reported at once.
	_, err = Parse([]byte("sites:\n  - domain: shop.example\n    exempt: true\n    consent: {gpc: ignore, dnt: ignore}\n" +
		"retention:\n  raw_events_days: 800\n"))
	if n := strings.Count(err.Error(), "is exempt"); n != 3 {
		t.Errorf("%d problems reported, want 3: %v", n, err)
	}
}
