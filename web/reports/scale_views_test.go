package reports_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
)

// scaleEnd is the end of the generated month (exclusive); scaleMid splits
// it in halves: compare=previous_period asks for the second half, so its
// previous period, the first half, holds events too.
var (
	scaleEnd  = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	scaleFrom = scaleEnd.AddDate(0, 0, -30)
	scaleMid  = scaleFrom.AddDate(0, 0, 15)
)

// scaleHalf is the query of the month's second half with its previous
// period.
var scaleHalf = "?site=" + aggregator.DemoDomain + "&period=custom&from=" + scaleMid.Format(time.DateOnly) +
	"&to=" + scaleEnd.AddDate(0, 0, -1).Format(time.DateOnly) + "&metrics=visitors,visits,pageviews&compare=previous_period"

// benchConfig gives the generated site a funnel of three goals.
var benchConfig = &config.Config{Sites: []config.Site{{Domain: aggregator.DemoDomain,
	Goals:   []config.Goal{{Name: "Home", Page: "/"}, {Name: "Pricing", Page: "/pricing"}, {Name: "Signup", Event: "signup"}},
	Funnels: []config.Funnel{{Name: "Buy", Steps: []string{"Home", "Pricing", "Signup"}}},
}}}

// scaleViews are the dashboard views a scale benchmark times, on either
// backend (the site configured as benchConfig); the benchmark supplies,
// per name, the one exact SQL pass that answers the same question.
var scaleViews = []struct{ name, path string }{
	{"compare", "aggregate" + scaleHalf},
	{"compare/country==DE", "aggregate" + scaleHalf + "&filters=country==DE"},
	{"compare/two", "aggregate" + scaleHalf + "&filters=country==DE%3Bdevice==mobile"},
	{"aggregate", "aggregate" + scaleQuery},
	{"aggregate/country==DE", "aggregate" + scaleQuery + "&filters=country==DE"},
	{"aggregate/source!=direct", "aggregate" + scaleQuery + "&filters=source!=direct"},
	{"aggregate/two", "aggregate" + scaleQuery + "&filters=country==DE%3Bdevice==mobile"},
	{"aggregate/session+event", "aggregate" + scaleQuery + "&filters=country==DE%3Bpage==/pricing"},
	{"timeseries/two", "timeseries" + scaleQuery + "&interval=day&filters=country==DE%3Bdevice==mobile"},
	{"breakdown/source/two", "breakdown" + scaleQuery + "&property=source&filters=country==DE%3Bdevice==mobile"},
	{"breakdown/page/country==DE", "breakdown" + scaleQuery + "&property=page&filters=country==DE"},
	{"aggregate/page~+session", "aggregate" + scaleQuery + "&filters=page~PRIC%3Bcountry==DE"},
	{"aggregate/event!=+session", "aggregate" + scaleQuery + "&filters=event_name!=signup%3Bdevice==mobile"},
	{"breakdown/page/two", "breakdown" + scaleQuery + "&property=page&filters=country==DE%3Bdevice==mobile"},
	{"breakdown/props:plan", "breakdown" + scaleQuery + "&property=props:plan"},
	{"breakdown/props:plan/country==DE", "breakdown" + scaleQuery + "&property=props:plan&filters=country==DE"},
	{"funnel", "funnel?site=" + aggregator.DemoDomain + "&period=30d&funnel=Buy"},
	{"funnel/country==DE", "funnel?site=" + aggregator.DemoDomain + "&period=30d&funnel=Buy&filters=country==DE"},
	{"goals", "breakdown?site=" + aggregator.DemoDomain + "&period=30d&property=goal"},
	{"goals/country==DE", "breakdown?site=" + aggregator.DemoDomain + "&period=30d&property=goal&filters=country==DE"},
	{"aggregate/goal+session", "aggregate" + scaleQuery + "&filters=goal==Signup%3Bcountry==DE"},
}

const scaleQuery = "?site=" + aggregator.DemoDomain + "&period=30d&metrics=visitors,visits,pageviews"

type scaleCase struct{ name, path, exact string }

// scaleCases pairs every view with its exact pass; a view without one
// fails the benchmark, so the backends keep timing the same list.
func scaleCases(b *testing.B, exacts map[string]string) []scaleCase {
	b.Helper()
	var cases []scaleCase
	for _, v := range scaleViews {
		ex, ok := exacts[v.name]
		if !ok {
			b.Fatalf("no exact pass for view %s", v.name)
		}
		cases = append(cases, scaleCase{v.name, v.path, ex})
	}
	if len(exacts) != len(scaleViews) {
		b.Fatalf("%d exact passes for %d views", len(exacts), len(scaleViews))
	}
	return cases
}

// timeScaleCases times every case through the full router h and its
// exact pass, b.N times each, one after the other, and reports the
// medians and their ratio (-benchtime 5x: five readings each, so one
// disturbed reading on the shared machine does not make the figure).
// check, if not nil, sees each answer. With inProcess (the store runs in
// this process: SQLite) it reports the medians of the process CPU time
// too, the firmer measure on a shared, loaded machine.
func timeScaleCases(b *testing.B, h http.Handler, token string, cases []scaleCase, exact func(query string) time.Duration, inProcess bool, check func(b *testing.B, c scaleCase, body []byte)) {
	b.ResetTimer()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var tooks, exacts, cpus, exactCPUs []time.Duration
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/"+c.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				t0, cpu0 := time.Now(), processCPU(b)
				h.ServeHTTP(rec, req)
				tooks, cpus = append(tooks, time.Since(t0)), append(cpus, processCPU(b)-cpu0)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", c.path, rec.Code, rec.Body)
				}
				cpu0 = processCPU(b)
				exacts = append(exacts, exact(c.exact))
				exactCPUs = append(exactCPUs, processCPU(b)-cpu0)
				if check != nil {
					check(b, c, rec.Body.Bytes())
				}
			}
			took, ex := median(tooks), median(exacts)
			b.ReportMetric(float64(took.Milliseconds()), "footfall_ms")
			b.ReportMetric(float64(ex.Milliseconds()), "exact_ms")
			b.ReportMetric(took.Seconds()/ex.Seconds(), "ratio")
			if !inProcess {
				return
			}
			cpu, exCPU := median(cpus), median(exactCPUs)
			b.ReportMetric(float64(cpu.Milliseconds()), "footfall_cpu_ms")
			b.ReportMetric(float64(exCPU.Milliseconds()), "exact_cpu_ms")
			b.ReportMetric(cpu.Seconds()/exCPU.Seconds(), "cpu_ratio")
		})
	}
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkFunnel fails b unless the funnel API's answer (body) has per step
// the visitors and visits of want (the exact pass's, by step from 1).
func checkFunnel(b *testing.B, body []byte, want map[uint64][2]uint64) {
	b.Helper()
	var got struct {
		Results []struct{ Step, Visitors, Visits uint64 }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		b.Fatal(err)
	}
	if len(got.Results) == 0 || len(want) == 0 {
		b.Errorf("funnel: %d steps answered, the exact pass reached %d", len(got.Results), len(want))
	}
	for _, r := range got.Results {
		if w := want[r.Step]; w != [2]uint64{r.Visitors, r.Visits} {
			b.Errorf("funnel step %d: visitors, visits %d, %d; the exact pass %v", r.Step, r.Visitors, r.Visits, w)
		}
	}
}

// scanSteps reads an exact funnel pass's rows (step, visitors, visits)
// into the steps from 1; offset is added to each row's step.
func scanSteps(b *testing.B, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}, offset uint64) map[uint64][2]uint64 {
	b.Helper()
	want := map[uint64][2]uint64{}
	for rows.Next() {
		var j, visitors, visits uint64
		if err := rows.Scan(&j, &visitors, &visits); err != nil {
			b.Fatal(err)
		}
		want[j+offset] = [2]uint64{visitors, visits}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return want
}
