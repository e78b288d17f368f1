package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/store"
)

// PolicyBackend is what the policy-version suite exercises.
type PolicyBackend interface {
	Backend
	RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
}

// RunPolicyVersions checks that the first record of a version wins.
func RunPolicyVersions(t *testing.T, open func(t *testing.T) PolicyBackend) {
	b := open(t)
	ctx := context.Background()
	site := addSite(t, b).ID
	day := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		version uint32
		at      time.Time
	}{{1, day}, {1, day.AddDate(0, 0, 5)}, {2, day.AddDate(0, 1, 0)}, {2, day.AddDate(0, 2, 0)}} {
		if err := b.RecordPolicyVersion(ctx, site, r.version, r.at); err != nil {
			t.Fatalf("RecordPolicyVersion: %v", err)
		}
	}
	all, err := b.PolicyVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.PolicyVersion
	for _, p := range all {
		if p.SiteID == site {
			got = append(got, p)
		}
	}
	want := []store.PolicyVersion{{SiteID: site, Version: 1, Since: day}, {SiteID: site, Version: 2, Since: day.AddDate(0, 1, 0)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("policy versions (-want +got):\n%s", diff)
	}
}
