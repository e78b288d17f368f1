package collector

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/footfall/footfall/store"
)

// SiteLister lists the registered sites.
type SiteLister interface {
	Sites(ctx context.Context) ([]store.Site, error)
}

// Sites is an in-memory view of the registered sites, so the beacon path
// does not ask the store per request. A domain it does not know triggers a
// reload at most once per MinReload, which bounds the store reads unknown
// domains can cause while a site added by another process is found quickly.
type Sites struct {
	src       SiteLister
	minReload time.Duration

	mu       sync.Mutex
	byDomain map[string]store.Site
	byID     map[uint32]store.Site
	loadedAt time.Time
}

// NewSites returns a site view over src; call Load once before serving.
func NewSites(src SiteLister, minReload time.Duration) *Sites {
	if minReload <= 0 {
		minReload = time.Second
	}
	return &Sites{src: src, minReload: minReload, byDomain: map[string]store.Site{}, byID: map[uint32]store.Site{}}
}

// Load reads every site from the store.
func (s *Sites) Load(ctx context.Context) error {
	sites, err := s.src.Sites(ctx)
	if err != nil {
		return fmt.Errorf("load sites: %w", err)
	}
	m := make(map[string]store.Site, len(sites))
	ids := make(map[uint32]store.Site, len(sites))
	for _, site := range sites {
		m[site.Domain] = site
		ids[site.ID] = site
	}
	s.mu.Lock()
	s.byDomain, s.byID, s.loadedAt = m, ids, time.Now()
	s.mu.Unlock()
	return nil
}

// Lookup returns the site registered for domain.
func (s *Sites) Lookup(ctx context.Context, domain string) (store.Site, bool, error) {
	s.mu.Lock()
	site, ok := s.byDomain[domain]
	reload := !ok && time.Since(s.loadedAt) >= s.minReload
	if reload {
		s.loadedAt = time.Now() // claim the reload: concurrent misses do not pile up
	}
	s.mu.Unlock()
	if !reload {
		return site, ok, nil
	}
	if err := s.Load(ctx); err != nil {
		return store.Site{}, false, err
	}
	s.mu.Lock()
	site, ok = s.byDomain[domain]
	s.mu.Unlock()
	return site, ok, nil
}

// ByID returns the site of an id from memory (e-mail links carry ids; they
// come from signed tokens, so no reload is needed for unknown ones).
func (s *Sites) ByID(id uint32) (store.Site, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	site, ok := s.byID[id]
	return site, ok
}
