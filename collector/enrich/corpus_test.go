package enrich

import (
	"testing"

	"github.com/x-way/crawlerdetect"
)

// Accuracy targets on the public corpora in testdata (see
// testdata/README.md for where each comes from and how it was labelled).
const (
	wantFamilyAccuracy = 0.92   // browser family agrees with the labels
	wantBotRecall      = 0.95   // bots classified as bots
	wantBrowserFP      = 0.0005 // real browsers classified as bots
	wantAppFP          = 0.02   // app and feature-phone user agents classified as bots
)

// corpusFigures classifies every corpus row once.
type corpusFigures struct {
	familyOK, families   int
	botsFound, bots      int
	browserFP, browsers  int
	appFP, apps          int
	familyMiss, botsMiss []string
	falsePositives       []string
}

func measureCorpora(t testing.TB) corpusFigures {
	t.Helper()
	p := newUAParser(nil)
	var f corpusFigures
	for _, row := range readCSV(t, "ua_families.csv") {
		f.families++
		got := p.parse(capUA(row["user_agent"]))
		if got.botReason == "" && got.browser == row["family"] {
			f.familyOK++
		} else {
			f.familyMiss = append(f.familyMiss, row["family"]+" ≠ "+got.browser+got.botReason+": "+row["user_agent"])
		}
	}
	for _, row := range readCSV(t, "ua_bots.csv") {
		f.bots++
		if p.parse(capUA(row["user_agent"])).botReason != "" {
			f.botsFound++
		} else {
			f.botsMiss = append(f.botsMiss, row["user_agent"])
		}
	}
	for _, row := range readCSV(t, "ua_humans.csv") {
		bot := p.parse(capUA(row["user_agent"])).botReason
		if row["kind"] == "app" {
			f.apps++
		} else {
			f.browsers++
		}
		if bot == "" {
			continue
		}
		if row["kind"] == "app" {
			f.appFP++
		} else {
			f.browserFP++
		}
		f.falsePositives = append(f.falsePositives, bot+": "+row["user_agent"])
	}
	return f
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TestCorpusAccuracy measures browser family accuracy, bot recall and false
// positives on the corpora and fails below the targets. The figures are
// logged (go test -v) for docs/enrichment.md.
func TestCorpusAccuracy(t *testing.T) {
	f := measureCorpora(t)
	if f.families < 1000 || f.bots < 1000 || f.browsers < 1000 || f.apps < 500 {
		t.Fatalf("corpora too small: %d families, %d bots, %d browsers, %d apps", f.families, f.bots, f.browsers, f.apps)
	}
	family, recall := ratio(f.familyOK, f.families), ratio(f.botsFound, f.bots)
	browserFP, appFP := ratio(f.browserFP, f.browsers), ratio(f.appFP, f.apps)
	t.Logf("browser family %.2f%% of %d; bot recall %.2f%% of %d; false positives %.3f%% of %d browsers, %.2f%% of %d apps",
		100*family, f.families, 100*recall, f.bots, 100*browserFP, f.browsers, 100*appFP, f.apps)
	show := func(what string, list []string) {
		for i, s := range list {
			if i == 15 {
				t.Logf("%s: … %d more", what, len(list)-i)
				break
			}
			t.Logf("%s: %s", what, s)
		}
	}
	if family < wantFamilyAccuracy {
		t.Errorf("browser family accuracy %.2f%%, want at least %.0f%%", 100*family, 100*wantFamilyAccuracy)
		show("family miss", f.familyMiss)
	}
	if recall < wantBotRecall {
		t.Errorf("bot recall %.2f%%, want at least %.0f%%", 100*recall, 100*wantBotRecall)
		show("bot missed", f.botsMiss)
	}
	if browserFP > wantBrowserFP || appFP > wantAppFP {
		t.Errorf("false positives %.3f%% of browsers (want at most %.2f%%), %.2f%% of apps (want at most %.0f%%)",
			100*browserFP, 100*wantBrowserFP, 100*appFP, 100*wantAppFP)
		show("false positive", f.falsePositives)
	}
}

// TestBrowserTailAgreesWithCrawlerDetect checks the fast path against
// crawlerdetect on every corpus user agent: a plain browser is one that
// crawlerdetect does not call a crawler, and the tail of any other UA of a
// browser's shape gets crawlerdetect's verdict on the whole UA. It also
// wants the fast path to answer for most real browsers, or it would not be
// one.
func TestBrowserTailAgreesWithCrawlerDetect(t *testing.T) {
	plain, tails, browsers := 0, 0, 0
	for _, file := range []string{"ua_bots.csv", "ua_humans.csv", "ua_families.csv", "useragents.csv"} {
		for _, row := range readCSV(t, file) {
			ua := capUA(row["user_agent"])
			human := file == "ua_families.csv" || file == "ua_humans.csv" && row["kind"] == "browser"
			if human {
				browsers++
			}
			tail, ok := browserTail(ua)
			if !ok {
				continue
			}
			want := crawlerdetect.IsCrawler(ua)
			switch {
			case tail == "" && want:
				t.Errorf("%s: a crawler passes as a plain browser: %s", file, ua)
			case tail != "" && crawlerdetect.IsCrawler(tail) != want:
				t.Errorf("%s: crawlerdetect says %v of the whole UA, %v of its tail %q: %s", file, want, !want, tail, ua)
			}
			if human && tail == "" {
				plain++
			} else if human {
				tails++
			}
		}
	}
	t.Logf("of %d real browsers' user agents, %d (%.1f%%) are plain, %d (%.1f%%) leave a tail to crawlerdetect",
		browsers, plain, 100*ratio(plain, browsers), tails, 100*ratio(tails, browsers))
	if ratio(plain, browsers) < 0.75 {
		t.Errorf("the fast path answers for %.1f%% of real browsers, want at least 75%%", 100*ratio(plain, browsers))
	}
}

// wantReferrerCoverage is the share of the hosts of Snowplow's referrer
// database (testdata/referrers_snowplow.csv) whose medium Footfall agrees
// with: search, social, email, and "unknown" as other.
const wantReferrerCoverage = 0.76

func TestReferrerCoverage(t *testing.T) {
	rows := readCSV(t, "referrers_snowplow.csv")
	agree, byMedium, missed := 0, map[string][2]int{}, map[string][]string{}
	for _, row := range rows {
		want := row["medium"]
		if want == "unknown" {
			want = ClassOther
		}
		_, got := ClassifyReferrer(mustURL(t, "https://"+row["host"]+"/"), "example.org", UTM{})
		c := byMedium[row["medium"]]
		c[1]++
		if got == want {
			agree++
			c[0]++
		} else {
			missed[row["medium"]] = append(missed[row["medium"]], row["host"]+" ("+got+")")
		}
		byMedium[row["medium"]] = c
	}
	cov := ratio(agree, len(rows))
	t.Logf("referrer classes agree on %d of %d hosts (%.1f%%); by medium: %v", agree, len(rows), 100*cov, byMedium)
	if len(rows) < 1000 {
		t.Fatalf("%d hosts, want at least 1000", len(rows))
	}
	if cov < wantReferrerCoverage {
		t.Errorf("referrer coverage %.1f%%, want at least %.0f%%", 100*cov, 100*wantReferrerCoverage)
		for m, hosts := range missed {
			t.Logf("%s missed: %d, e.g. %v", m, len(hosts), hosts[:min(20, len(hosts))])
		}
	}
}
