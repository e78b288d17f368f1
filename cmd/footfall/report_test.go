package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/footfall/footfall/aggregator"
)

// footfall report prints what the stats API answers: the same planner.
func TestReportMatchesTheStatsAPI(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "f.db")
	addr, _ := startServe(t, "-store", dsn, "-demo")
	code, token, errOut := footfall(t, nil, "token", "create", "-store", dsn, "-role", "analyst")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, errOut)
	}
	token = strings.TrimSpace(token)
	for _, tc := range []struct {
		name  string
		args  []string
		query string
	}{
		{"aggregate, two filters, compare", []string{"aggregate", "-metrics", "visitors,visits,bounce_rate", "-filters", "country==DE;page==/pricing", "-compare", "previous_period"},
			"stats/aggregate?metrics=visitors,visits,bounce_rate&filters=country==DE;page==/pricing&compare=previous_period"},
		{"breakdown", []string{"breakdown", "-property", "source", "-limit", "3"}, "stats/breakdown?property=source&limit=3"},
		{"timeseries", []string{"timeseries", "-period", "7d", "-filters", "device==mobile"}, "stats/timeseries?period=7d&filters=device==mobile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got, errOut := footfall(t, nil, append([]string{"report", "-store", dsn, "-site", aggregator.DemoDomain}, tc.args...)...)
			if code != 0 {
				t.Fatalf("report: exit %d: %s", code, errOut)
			}
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/"+tc.query+"&format=csv&site="+aggregator.DemoDomain, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			want, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || strings.Count(string(want), "\n") < 2 {
				t.Fatalf("API: %d %s", resp.StatusCode, want)
			}
			if got != string(want) {
				t.Errorf("footfall report printed\n%s\nthe API answered\n%s", got, want)
			}
		})
	}
	if code, _, errOut := footfall(t, nil, "report", "-store", dsn, "-site", aggregator.DemoDomain, "breakdown", "-compare", "previous_period"); code != 2 || !strings.Contains(errOut, "-compare: not a setting of breakdown") {
		t.Errorf("breakdown -compare: exit %d, %s", code, errOut)
	}
}
