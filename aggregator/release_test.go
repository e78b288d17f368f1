package aggregator_test

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// partner returns a validated partner config.
func partner(t *testing.T, yaml string) (config.Partner, *config.Config) {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Partners[0], cfg
}

// visit is one pageview by a visitor key.
func pageview(site uint32, at time.Time, key uint64, path string, gpc bool) store.Event {
	return store.Event{ID: uuid.New(), SiteID: site, Type: store.Pageview, Time: at, ReceivedAt: at, Path: path,
		VisitorKey: key, SessionID: key, Country: "DE", Browser: "Firefox", GPC: gpc}
}

// TestReleaseSuppressesSmallCells: k-anonymity with a distinct (other) row,
// and GPC visitors left out, on both backends.
func TestReleaseSuppressesSmallCells(t *testing.T) {
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, err := st.AddSite(ctx, "small.example")
		if err != nil {
			t.Fatal(err)
		}
		d1, d2 := day1, day1.AddDate(0, 0, 1)
		var events []store.Event
		add := func(day time.Time, path string, keys ...uint64) {
			for i, k := range keys {
				events = append(events, pageview(site.ID, day.Add(time.Duration(i+1)*time.Minute+time.Duration(len(events))*time.Second), k, path, false))
			}
		}
		// Day 1: /a has k=5 visitors; /b 4 and /c 1 fold into an (other)
		// of 5 distinct visitors.
		add(d1, "/a", 1, 2, 3, 4, 5)
		add(d1, "/b", 6, 7, 8, 9)
		add(d1, "/c", 10)
		// Day 2: /b and /c have 3 visitors each, the same 3: their (other)
		// covers 3 < k and is dropped, though 3+3 would pass.
		add(d2, "/a", 1, 2, 3, 4, 5)
		add(d2, "/b", 6, 7, 8)
		add(d2, "/c", 6, 7, 8)
		// /g has 6 visitors, all with GPC: none of them counts anywhere.
		for k := uint64(100); k < 106; k++ {
			events = append(events, pageview(site.ID, d1.Add(time.Hour+time.Duration(k)*time.Second), k, "/g", true))
		}
		if err := st.InsertEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
		p, _ := partner(t, "partners:\n  - name: acme\n    sites: [small.example]\n    k: 5\n    dimensions: [total, page]\n    metrics: [visitors, pageviews]\n")
		r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: d1, To: d2})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, tb := range r.Tables {
			for _, row := range tb.Rows {
				got[tb.Dimension] = append(got[tb.Dimension], fmt.Sprintf("%s %s %v", row.Day, row.Value, row.Metrics))
			}
		}
		want := map[string][]string{
			"total": {"2026-03-14  [10 10]", "2026-03-15  [8 11]"},
			"page":  {"2026-03-14 (other) [5 5]", "2026-03-14 /a [5 5]", "2026-03-15 /a [5 5]"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("release (-want +got):\n%s", diff)
		}
	})
}

// TestNoSmallCellInAnyExport checks the k rule against the truth on the
// fixture: no exported (day, dimension, value) has fewer than k distinct
// visitors, and every cell with at least k that looks harmless is there.
func TestNoSmallCellInAnyExport(t *testing.T) {
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, _ := seeded(t, st)
		const k = 4
		p, _ := partner(t, fmt.Sprintf("partners:\n  - name: acme\n    sites: [shop.example]\n    k: %d\n    allow_city: true\n"+
			"    dimensions: [total, page, entry_page, referrer_host, country, city, event_name]\n    metrics: [visitors, visits, pageviews, events]\n", k))
		r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		dims := make([]string, len(p.Dimensions))
		for i, d := range p.Dimensions {
			dims[i] = config.StoreDimension(d)
		}
		truth, err := st.PartnerCells(ctx, store.CellQuery{SiteID: site.ID, From: day1, To: day3, Dimensions: dims})
		if err != nil {
			t.Fatal(err)
		}
		visitors := map[string]uint64{}
		for _, c := range truth {
			visitors[c.Day.Format(time.DateOnly)+"|"+c.Dimension+"|"+c.Value] = c.TrueVisitors
		}
		dir := t.TempDir()
		if _, err := aggregator.WriteExport(dir, r, aggregator.FormatCSV); err != nil {
			t.Fatal(err)
		}
		published := 0
		for _, tb := range r.Tables {
			rows := readCSV(t, filepath.Join(dir, tb.Dimension+".csv"))
			for _, row := range rows[1:] {
				published++
				day, value := row[1], row[2]
				n, _ := strconv.Atoi(row[3])
				if n < k {
					t.Errorf("%s %s %q: %d visitors published, k is %d", tb.Dimension, day, value, n, k)
				}
				if value == store.OtherValue {
					continue
				}
				if v := visitors[day+"|"+config.StoreDimension(tb.Dimension)+"|"+value]; v < k {
					t.Errorf("%s %s %q covers %d visitors, fewer than k=%d, and was exported", tb.Dimension, day, value, v, k)
				}
			}
		}
		// Every harmless cell of k or more is published.
		for _, c := range truth {
			if c.TrueVisitors >= k && aggregator.Publishable(c.Value) {
				published--
			}
		}
		if published < 0 {
			t.Errorf("%d cells of k or more visitors are missing from the export", -published)
		}
	})
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// identifierPatterns are what an export must never contain.
var identifierPatterns = map[string]*regexp.Regexp{
	"IPv4":     regexp.MustCompile(`\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b`),
	"IPv6":     regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:)+:(?:[0-9a-f]{1,4})?|::(?:[0-9a-f]{1,4})\b`),
	"UUID":     regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`),
	"hex hash": regexp.MustCompile(`(?i)\b[0-9a-f]{16,}\b`),
	"e-mail":   regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`),
	"click id": regexp.MustCompile(`(?i)\b(?:gclid|fbclid|msclkid|dclid|gbraid|wbraid|yclid|ttclid|twclid)\b`),
}

// TestExportHasNoIdentifiers scans a CSV and a JSONL export of the fixture,
// with identifier-like values planted in shared dimensions for more than k
// visitors, for anything that looks like an identifier.
func TestExportHasNoIdentifiers(t *testing.T) {
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, f := seeded(t, st)
		planted := []store.Event{}
		values := []struct{ path, ref, campaign, name string }{
			{"/order/3f2a6c1e-9b7d-4c2a-8e1f-0a1b2c3d4e5f", "198.51.100.7", "jane.doe@mail.example", "signup"},
			{"/u/jane.doe@mail.example", "2001:db8::1", "spring?gclid=Cj0KCQjw", "ref-0123456789abcdef0123"},
			{"/t/0123456789abcdef0123456789abcdef", "news.example", "fbclid", "2001:db8:0:0:0:0:0:1"},
			{"/call/004930123456789", "ads.example", "c", "n"},
		}
		for i, v := range values {
			for k := range 12 {
				at := day1.Add(time.Duration(8+i)*time.Hour + time.Duration(k)*time.Minute)
				e := pageview(site.ID, at, uint64(5000+100*i+k), v.path, false)
				e.ReferrerHost, e.UTMCampaign = v.ref, v.campaign
				click := pageview(site.ID, at.Add(10*time.Second), e.VisitorKey, v.path, false)
				click.Type, click.Name, click.Target = store.Click, v.name, "https://x.example/?email=jane.doe@mail.example"
				planted = append(planted, e, click)
			}
		}
		if err := st.InsertEvents(ctx, planted); err != nil {
			t.Fatal(err)
		}
		// The raw data does hold identifiers: the scan can find them.
		if !identifierPatterns["IPv4"].MatchString(f.Events[0].IP) || !identifierPatterns["e-mail"].MatchString(f.Events[0].UserID) {
			t.Fatal("the fixture lost its raw identifiers; this test would prove nothing")
		}
		p, _ := partner(t, "partners:\n  - name: acme\n    sites: [shop.example]\n    k: 3\n    allow_region: true\n    allow_city: true\n"+
			"    dimensions: [total, page, entry_page, exit_page, referrer_host, source, utm_source, utm_medium, utm_campaign, country, region, city, device, browser, os, event_name]\n"+
			"    metrics: [visitors, visits, pageviews, events]\n")
		r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{aggregator.FormatCSV, aggregator.FormatJSONL} {
			dir := t.TempDir()
			m, err := aggregator.WriteExport(dir, r, format)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows == 0 {
				t.Fatal("empty export")
			}
			for _, file := range m.Files {
				data, err := os.ReadFile(filepath.Join(dir, file.Name))
				if err != nil {
					t.Fatal(err)
				}
				for name, re := range identifierPatterns {
					if hit := re.Find(data); hit != nil {
						t.Errorf("%s: %s %q", file.Name, name, hit)
					}
				}
			}
		}
	})
}

// TestExportManifest checks the manifest: window, parameters, row counts and
// checksums of the files as written.
func TestExportManifest(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	seeded(t, st)
	p, _ := partner(t, "partners:\n  - name: acme\n    sites: [shop.example]\n    k: 3\n    dimensions: [total, page]\n    metrics: [visitors, pageviews]\n")
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1.AddDate(0, 0, 1), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := aggregator.WriteExport(dir, r, aggregator.FormatJSONL); err != nil {
		t.Fatal(err)
	}
	var m aggregator.Manifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != aggregator.SchemaVersion || m.Partner != "acme" || !m.GeneratedAt.Equal(now) ||
		m.Window != (aggregator.ManifestRange{From: "2026-03-14", To: "2026-03-15"}) || m.Format != "jsonl" {
		t.Errorf("manifest header: %+v", m)
	}
	if m.Parameters.K != 3 || m.Parameters.Noise != "none" || !slices.Equal(m.Parameters.Dimensions, []string{"total", "page"}) ||
		m.Parameters.TimeZones["shop.example"] != "UTC" {
		t.Errorf("manifest parameters: %+v", m.Parameters)
	}
	total := 0
	for _, f := range m.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: checksum mismatch", f.Name)
		}
		if lines := strings.Count(string(data), "\n"); lines != f.Rows {
			t.Errorf("%s: %d lines, manifest says %d rows", f.Name, lines, f.Rows)
		}
		total += f.Rows
	}
	if total != m.Rows || total == 0 {
		t.Errorf("rows %d, manifest says %d", total, m.Rows)
	}
}

// recordingNoise remembers every draw of the noise it wraps.
type recordingNoise struct {
	inner aggregator.Noise
	draws []struct {
		x, noisy, l0, linf int64
		eps                float64
	}
}

func (r *recordingNoise) AddNoise(x, l0, linf int64, eps float64) (int64, error) {
	v, err := r.inner.AddNoise(x, l0, linf, eps)
	r.draws = append(r.draws, struct {
		x, noisy, l0, linf int64
		eps                float64
	}{x, v, l0, linf, eps})
	return v, err
}

// TestLaplaceNoiseMatchesEpsilon: the mechanism's mean absolute error is
// its scale l0·linf/ε, and its mean error is zero.
func TestLaplaceNoiseMatchesEpsilon(t *testing.T) {
	for _, tt := range []struct {
		name     string
		l0, linf int64
		eps      float64
	}{
		{"visitors eps 0.5", 4, 1, 0.5},
		{"pageviews eps 1", 4, 10, 1},
		// Integer counts: for scales near 1 and below, rounding makes the
		// error smaller than the continuous scale; releases use scales ≥ 2.
		{"one cell eps 0.25", 1, 1, 0.25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const n = 20000
			const x = 1_000_000
			var sum, abs float64
			for range n {
				v, err := aggregator.LaplaceNoise{}.AddNoise(x, tt.l0, tt.linf, tt.eps)
				if err != nil {
					t.Fatal(err)
				}
				sum += float64(v - x)
				abs += math.Abs(float64(v - x))
			}
			scale := float64(tt.l0*tt.linf) / tt.eps
			// The mean of n Laplace draws has standard deviation
			// scale·√2/√n (about 1% of scale here); 5% is 5 of those.
			if got := abs / n; math.Abs(got-scale) > 0.05*scale {
				t.Errorf("mean absolute error %.3f, want %.3f ± 5%%", got, scale)
			}
			if got := sum / n; math.Abs(got) > 0.05*scale {
				t.Errorf("mean error %.3f, want 0 ± %.3f", got, 0.05*scale)
			}
		})
	}
}

// TestReleaseWithDifferentialPrivacy: repeated releases differ, every count
// is noised with the scale the manifest states (ε split over dimensions ×
// metrics, bounded contributions), and the mean error matches it.
func TestReleaseWithDifferentialPrivacy(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	seeded(t, st)
	p, _ := partner(t, "partners:\n  - name: acme\n    sites: [shop.example]\n    k: 3\n    epsilon: 2\n    dimensions: [total, page]\n"+
		"    metrics: [visitors, pageviews]\n    bounds: {max_cells: 2, max_pageviews: 3}\n")
	rec := &recordingNoise{inner: aggregator.LaplaceNoise{}}
	var releases []*aggregator.Release
	for range 40 {
		r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1.AddDate(0, 0, 1), Noise: rec})
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	if cmp.Equal(releases[0].Tables, releases[1].Tables) {
		t.Error("two releases with noise are identical")
	}
	params := releases[0].Params
	wantEps := 2.0 / 4 // two dimensions × two metrics
	wantScale := map[string]float64{"visitors": 2 * 1 / wantEps, "pageviews": 2 * 3 / wantEps}
	if params.Noise != "laplace" || params.EpsilonPerCount != wantEps || !cmp.Equal(params.NoiseScale, wantScale) {
		t.Errorf("params %+v, want ε per count %g and scales %v", params, wantEps, wantScale)
	}
	byScale := map[float64][]float64{}
	for _, d := range rec.draws {
		if d.eps != wantEps || d.l0 != 2 || (d.linf != 1 && d.linf != 3) {
			t.Fatalf("noise drawn with l0=%d linf=%d ε=%g", d.l0, d.linf, d.eps)
		}
		scale := float64(d.l0*d.linf) / d.eps
		byScale[scale] = append(byScale[scale], math.Abs(float64(d.noisy-d.x)))
	}
	for scale, errs := range byScale {
		var mean float64
		for _, e := range errs {
			mean += e
		}
		mean /= float64(len(errs))
		// |Laplace(b)| has mean b and standard deviation b, so the mean of
		// n draws is within 5 standard errors (5b/√n: 21% of b for 560
		// draws) but once in millions of runs; a fixed 10% failed 1–2% of
		// runs by chance. A wrong scale (ε, l0 or linf off by 2×) is 50% or
		// more away.
		if tol := 5 * scale / math.Sqrt(float64(len(errs))); math.Abs(mean-scale) > tol {
			t.Errorf("scale %g: mean absolute error %.2f over %d counts, want within %.2f", scale, mean, len(errs), tol)
		}
	}
	// Published counts are never negative.
	for _, r := range releases {
		for _, tb := range r.Tables {
			for _, row := range tb.Rows {
				for _, v := range row.Metrics {
					if v < 0 {
						t.Fatalf("negative count published: %+v", row)
					}
				}
			}
		}
	}
}

func TestPublishable(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  bool
	}{
		{"/pricing", true},
		{"/blog/how-to-count-visitors-without-cookies-in-2026", true},
		{"www.google.com", true},
		{"DE", true},
		{"spring-sale", true},
		{"", true},
		{"(other)", false},
		{"/order/3f2a6c1e-9b7d-4c2a-8e1f-0a1b2c3d4e5f", false},
		{"/u/jane.doe@mail.example", false},
		{"198.51.100.7", false},
		{"2001:db8::1", false},
		{"/t/0123456789abcdef0123", false},
		{"spring?gclid=Cj0KCQjw", false},
		{"fbclid", false},
		{"/call/004930123456789", false},
		{"/r/AbC9x_k2LmN8pQ4rS7tU1vW3yZ", false},
	} {
		if got := aggregator.Publishable(tt.value); got != tt.want {
			t.Errorf("Publishable(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

// TestReleaseHasNoEmail: newsletter opens and clicks carry no visitor key,
// so partners never get them. The partner config refuses the e-mail
// dimensions, NewRelease refuses a partner that lists one anyway, and the
// web dimensions a partner gets count no e-mail event: a site with three
// web visitors and many opens has three visitors.
func TestReleaseHasNoEmail(t *testing.T) {
	for _, d := range []string{store.DimEmailOpen, store.DimEmailClick} {
		if _, err := config.Parse([]byte("partners:\n  - name: acme\n    sites: [mail.example]\n    dimensions: [total, " + d + "]\n")); err == nil {
			t.Errorf("a partner config listing %s was accepted", d)
		}
	}
	eachBackend(t, func(t *testing.T, st testStore) {
		ctx := context.Background()
		site, err := st.AddSite(ctx, "mail.example")
		if err != nil {
			t.Fatal(err)
		}
		var events []store.Event
		for k := uint64(1); k <= 3; k++ {
			e := pageview(site.ID, day1.Add(time.Duration(k)*time.Hour), k, "/", false)
			e.UTMMedium = "social"
			events = append(events, e)
		}
		for i := range 20 {
			at := day1.Add(time.Duration(i) * time.Minute)
			typ := store.EmailOpen
			if i%2 == 1 {
				typ = store.EmailClick
			}
			events = append(events, store.Event{ID: uuid.New(), SiteID: site.ID, Type: typ, Time: at, ReceivedAt: at,
				Consent: store.ConsentMarketing, UTMMedium: "email", UTMCampaign: "spring", UTMContent: "hero"})
		}
		if err := st.InsertEvents(ctx, events); err != nil {
			t.Fatal(err)
		}
		p, _ := partner(t, "partners:\n  - name: acme\n    sites: [mail.example]\n    k: 2\n    dimensions: [total, utm_medium, utm_campaign]\n    metrics: [visitors, visits, events]\n")
		r, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, tb := range r.Tables {
			for _, row := range tb.Rows {
				got[tb.Dimension] = append(got[tb.Dimension], fmt.Sprintf("%q %v", row.Value, row.Metrics))
			}
		}
		want := map[string][]string{
			"total":        {`"" [3 3 0]`},
			"utm_medium":   {`"social" [3 3 0]`},
			"utm_campaign": {`"" [3 3 0]`},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("release (-want +got):\n%s", diff)
		}

		p.Dimensions = []string{"total", store.DimEmailOpen}
		if _, err := aggregator.NewRelease(ctx, st, aggregator.ReleaseRequest{Partner: p, From: day1, To: day1}); err == nil {
			t.Error("a release with the email_open dimension was made")
		}
	})
}
