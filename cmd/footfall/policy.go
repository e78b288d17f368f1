package main

import (
	"context"
	"fmt"
	"time"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/store"
)

// policyRecorder keeps when each consent policy version took effect.
type policyRecorder interface {
	Sites(ctx context.Context) ([]store.Site, error)
	RecordPolicyVersion(ctx context.Context, siteID, version uint32, since time.Time) error
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
}

// recordPolicyVersions notes the current policy version of every site (a
// version seen for the first time takes effect now) and returns the whole
// history, for the policy endpoint's change notices.
func recordPolicyVersions(ctx context.Context, st policyRecorder, cfg *config.Config, now time.Time) ([]store.PolicyVersion, error) {
	sites, err := st.Sites(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range sites {
		v := cfg.SiteByDomain(s.Domain).Consent.PolicyVersion
		if err := st.RecordPolicyVersion(ctx, s.ID, v, now); err != nil {
			return nil, fmt.Errorf("site %s: %w", s.Domain, err)
		}
	}
	return st.PolicyVersions(ctx)
}
