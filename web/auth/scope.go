package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// SiteFinder finds a registered site by its domain.
type SiteFinder interface {
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
}

// ErrOutOfScope answers a request for a site out of the caller's scope.
var ErrOutOfScope = httpapi.Errorf(http.StatusForbidden, "forbidden: the site is not in your scope")

// SiteInScope finds the site of a domain that the request's principal may
// act on. To a principal scoped to some sites an unknown site is as
// forbidden (ErrOutOfScope) as another one, so the answer does not tell
// which domains exist; to one of every site it is a 404.
func SiteInScope(r *http.Request, st SiteFinder, domain string) (store.Site, error) {
	p, _ := FromRequest(r)
	d, err := store.NormalizeDomain(domain)
	if err != nil {
		return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "site: %v", err)
	}
	s, err := st.SiteByDomain(r.Context(), d)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.Sites != nil:
		return store.Site{}, ErrOutOfScope
	case errors.Is(err, store.ErrNotFound):
		return store.Site{}, httpapi.Errorf(http.StatusNotFound, "unknown site %q", d)
	case err != nil:
		return store.Site{}, err
	case !p.CanSite(s.ID):
		return store.Site{}, ErrOutOfScope
	}
	return s, nil
}
