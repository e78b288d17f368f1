package storetest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/footfall/footfall/store"
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
			"utm_campaign", "country", "region", "device", "browser", "os", "event_name", "event_target", "email_open", "email_click"} {
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

// TestRollupFixtureEmailCellsTellLinksApart guards what makes the known
// answers catch a store that swaps opens and clicks or mixes links up: in
// every daily window, no two e-mail cells hold the same count, and the
// fixture has the cases the e-mail rules treat specially.
func TestRollupFixtureEmailCellsTellLinksApart(t *testing.T) {
	f := GenerateRollupFixture()
	for _, c := range f.Cases {
		if c.Granularity != store.Daily {
			continue
		}
		type winCount struct {
			day    int64
			events uint64
		}
		seen := map[winCount]string{}
		values := map[string]bool{}
		for _, r := range c.Rollups {
			if !store.EmailDimension(r.Dimension) {
				continue
			}
			if r.Visitors != 0 || r.Visits != 0 || r.Pageviews != 0 || r.Bounces != 0 || r.DurationSec != 0 || r.EngagedMS != 0 {
				t.Errorf("%s: e-mail row %+v has web metrics", c.Name, r)
			}
			k := winCount{r.WindowStart.Unix(), r.Events}
			if other, ok := seen[k]; ok {
				t.Errorf("%s: %s/%s and %s both count %d on %s", c.Name, r.Dimension, r.Value, other, r.Events, r.WindowStart)
			}
			seen[k] = r.Dimension + "/" + r.Value
			values[r.Dimension+" "+r.Value] = true
		}
		for _, v := range []string{
			"email_open spring%2Fsale/hero", "email_open spring%252Fsale/hero", "email_click 50%25-off/nav/pricing",
			"email_open march-news/", "email_click march-news/hero",
		} {
			if !values[v] {
				t.Errorf("%s: no e-mail row %q", c.Name, v)
			}
		}
	}
	var noTarget, noMarketing, withKey int
	for _, e := range f.Events {
		if e.Type != store.EmailOpen && e.Type != store.EmailClick {
			continue
		}
		switch {
		case e.Consent&store.ConsentMarketing == 0:
			noMarketing++
		case e.Target == "":
			noTarget++
		}
		if e.VisitorKey != 0 {
			withKey++
		}
	}
	if noTarget == 0 || noMarketing == 0 || withKey == 0 {
		t.Errorf("e-mail events: %d without a target, %d without marketing consent, %d with a visitor key; want some of each", noTarget, noMarketing, withKey)
	}
}
