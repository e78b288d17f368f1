package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	c, err := Parse([]byte("sites:\n  - domain: Example.com\n  - domain: blog.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sites) != 2 || c.Sites[0].Domain != "example.com" {
		t.Errorf("sites = %+v", c.Sites)
	}
	if c, err := Parse(nil); err != nil || len(c.Sites) != 0 {
		t.Errorf("empty file: %+v, %v", c, err)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown key", "sitez: []\n", []string{"sitez"}},
		{"unknown site key", "sites:\n  - domain: a.example\n    domian: b\n", []string{"domian"}},
		{"several bad sites", "sites:\n  - domain: 'http://x'\n  - domain: a.example\n  - domain: A.example\n  - domain: ''\n",
			[]string{"sites[0]", "sites[2]: a.example is listed twice", "sites[3]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRetention(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention != (Retention{RawEventsDays: 395, RawIPDays: 30, ConsentLedgerDays: 1826}) {
		t.Errorf("defaults = %+v", c.Retention)
	}
	_, err = Parse([]byte("retention:\n  raw_events_days: 20\n  raw_ip_days: 40\n  consent_ledger_days: -1\n"))
	for _, want := range []string{"raw_ip_days (40) is longer", "consent_ledger_days: want 1 to"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// The shipped example configuration is valid.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../deploy/footfall.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sites) != 1 || len(c.Partners) != 1 || c.Retention.RawIPDays != 30 {
		t.Errorf("example config = %+v", c)
	}
}
