package storetest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/rollups/fixture.json from the generator")

// TestRollupFixtureIsCurrent checks that the committed fixture is what the
// generator makes. After changing the generator, run
//
//	go test ./store/storetest -run TestRollupFixtureIsCurrent -update
func TestRollupFixtureIsCurrent(t *testing.T) {
	want, err := MarshalFixture(GenerateRollupFixture())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "rollups", "fixture.json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: run go test ./store/storetest -run TestRollupFixtureIsCurrent -update", path)
	}
}

// TestRollupFixtureCoversEverything guards the fixture against generator
// changes that would leave a metric or dimension untested.
func TestRollupFixtureCoversEverything(t *testing.T) {
	f := GenerateRollupFixture()
	for _, c := range f.Cases {
		seen := map[string]bool{}
		var pv, ev, bounces, dur, eng uint64
		for _, r := range c.Rollups {
			seen[r.Dimension] = true
			pv += r.Pageviews
			ev += r.Events
			bounces += r.Bounces
			dur += r.DurationSec
			eng += r.EngagedMS
		}
		for _, d := range []string{"", "page", "entry_page", "exit_page", "referrer_host", "source", "utm_source", "utm_medium",
			"utm_campaign", "country", "region", "device", "browser", "os", "event_name", "event_target"} {
			if !seen[d] {
				t.Errorf("%s: no rollup row of dimension %q", c.Name, d)
			}
		}
		for name, n := range map[string]uint64{"pageviews": pv, "events": ev, "bounces": bounces, "duration": dur, "engaged": eng} {
			if n == 0 {
				t.Errorf("%s: %s are all zero", c.Name, name)
			}
		}
		if len(c.Consent) == 0 {
			t.Errorf("%s: no consent rollups", c.Name)
		}
	}
}
