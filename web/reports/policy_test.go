package reports_test

import (
	"context"
	"testing"
	"time"
)

// The consent endpoint lists the site's policy versions with the date each
// took effect, and only that site's.
func TestConsentListsPolicyVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		st, ok := e.st.(interface {
			RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error
		})
		if !ok {
			t.Fatal("the store records no policy versions")
		}
		ctx := context.Background()
		v1, v2 := day1.AddDate(0, -2, 0), day2.Add(9*time.Hour)
		for _, r := range []struct {
			site, version uint32
			since         time.Time
		}{{e.site.ID, 1, v1}, {e.site.ID, 2, v2}, {e.other.ID, 7, v1}} {
			if err := st.RecordPolicyVersion(ctx, r.site, r.version, r.since); err != nil {
				t.Fatal(err)
			}
		}
		var out struct {
			PolicyVersions []struct {
				Version uint32    `json:"version"`
				Since   time.Time `json:"since"`
			} `json:"policy_versions"`
		}
		e.getJSON(t, "/api/v1/stats/consent?site=shop.example&period=7d&date=2026-03-15", &out)
		got := out.PolicyVersions
		if len(got) != 2 || got[0].Version != 1 || !got[0].Since.Equal(v1) || got[1].Version != 2 || !got[1].Since.Equal(v2) {
			t.Errorf("policy versions %+v, want 1 since %s and 2 since %s", got, v1, v2)
		}
	})
}
