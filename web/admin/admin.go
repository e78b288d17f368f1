// Package admin is the administrators' API: erasure and access requests
// for one subject, signed newsletter links, a site's goals (goals.go), and
// the audit log. Every
// handler requires the admin role (web/auth) and records what it did in
// the audit log under the administrator's id.
//
// An admin scoped to some sites acts only on them: an IP subject and a
// newsletter link name their site, which must be in scope. A consent id
// or a user id reaches events of every site, and the audit log records
// every site's actions, so those are for admins of every site alone.
package admin

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Store is what the admin API reads and changes.
type Store interface {
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error)
	PutGoal(ctx context.Context, g store.SiteGoal) error
	DeleteGoal(ctx context.Context, siteID uint32, id string) error
	Goals(ctx context.Context, siteID uint32) ([]store.SiteGoal, error)
}

// Options are what the admin API needs.
type Options struct {
	Store Store
	// Links signs newsletter links (the collector's signer, so its keys
	// rotate with the consent keys).
	Links *links.Signer
	// Subjects reads and erases a subject's raw events (the collector's
	// service, so a consent id's erasure is durable work and events still
	// queued are covered). Required.
	Subjects *subject.Service
	// PublicURL is the base of the links HandleLinks answers with
	// (serve's -public-url), such as https://stats.example.com. Never the
	// request's Host header: a client chooses that, and the links go out
	// in newsletters.
	PublicURL string
	// Goals are a site's goals in the config file, by its domain
	// (config.Config.SiteGoals); nil: none.
	Goals func(domain string) []store.Goal
	Now   func() time.Time
}

// API serves the admin endpoints.
type API struct {
	opts Options
}

// New returns the admin API.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.PublicURL = strings.TrimSuffix(opts.PublicURL, "/")
	return &API{opts: opts}
}

// subjectBody names a subject, as JSON (erase) or query parameters (access).
type subjectBody struct {
	ConsentID string `json:"consent_id"`
	UserID    string `json:"user_id"`
	IP        string `json:"ip"`
	Site      string `json:"site"`
}

func (a *API) subject(r *http.Request, b subjectBody) (store.Subject, string, error) {
	n := 0
	for _, v := range []string{b.ConsentID, b.UserID, b.IP} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "give exactly one of consent_id, user_id or ip (with site)")
	}
	if b.IP == "" {
		if err := allSites(r); err != nil {
			return store.Subject{}, "", err
		}
	}
	switch {
	case b.ConsentID != "":
		id, err := uuid.Parse(b.ConsentID)
		if err != nil {
			return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "consent_id: want a UUID")
		}
		sub := store.Subject{ConsentID: id}
		return sub, sub.Label(""), nil
	case b.UserID != "":
		if len(b.UserID) > 128 {
			return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "user_id: at most 128 bytes")
		}
		sub := store.Subject{UserID: b.UserID}
		return sub, sub.Label(""), nil
	}
	if _, err := netip.ParseAddr(b.IP); err != nil {
		return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "ip: not an IP address")
	}
	site, err := a.site(r, b.Site)
	if err != nil {
		return store.Subject{}, "", err
	}
	sub := store.Subject{IP: b.IP, SiteID: site.ID}
	return sub, sub.Label(site.Domain), nil
}

// site finds a site the caller may act on (auth.SiteInScope).
func (a *API) site(r *http.Request, domain string) (store.Site, error) {
	return auth.SiteInScope(r, a.opts.Store, domain)
}

var (
	errAllSites = httpapi.Errorf(http.StatusForbidden, "forbidden: this needs an admin of every site (a site's admin may give ip and site)")
)

// allSites refuses a caller scoped to some sites.
func allSites(r *http.Request) error {
	if p, ok := auth.FromRequest(r); !ok || p.Sites != nil {
		return errAllSites
	}
	return nil
}

func decode(r *http.Request, v any) error { return httpapi.DecodeJSON(r, 8<<10, v) }

// audit records an action under the administrator who took it.
func (a *API) audit(r *http.Request, action, target string, detail any) error {
	p, _ := auth.FromRequest(r)
	d, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return a.opts.Store.AppendAudit(r.Context(), store.AuditEntry{
		Time: a.opts.Now().UTC().Truncate(time.Second), Actor: string(p.Kind) + ":" + p.ID,
		Action: action, Target: target, Detail: string(d),
	})
}

// HandleErase is POST /api/v1/admin/erase {consent_id | user_id | ip+site}.
func (a *API) HandleErase(w http.ResponseWriter, r *http.Request) error {
	var b subjectBody
	if err := decode(r, &b); err != nil {
		return err
	}
	sub, label, err := a.subject(r, b)
	if err != nil {
		return err
	}
	receipt, err := a.opts.Subjects.Erase(r.Context(), sub, label, subject.AdminWait)
	if err != nil {
		return err
	}
	if err := a.audit(r, "erase", label, receipt); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, receipt)
	return nil
}

// HandleAccess is GET /api/v1/admin/access?consent_id=|user_id=|ip=&site=.
func (a *API) HandleAccess(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	sub, label, err := a.subject(r, subjectBody{ConsentID: q.Get("consent_id"), UserID: q.Get("user_id"), IP: q.Get("ip"), Site: q.Get("site")})
	if err != nil {
		return err
	}
	out, err := a.opts.Subjects.Access(r.Context(), sub, label)
	if err != nil {
		return err
	}
	if err := a.audit(r, "access", label, map[string]int{"events": len(out.Events)}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// linkBody is POST /api/v1/admin/links, for newsletter tools.
type linkBody struct {
	Site     string   `json:"site"`
	Campaign string   `json:"campaign"`
	Link     string   `json:"link"`
	Target   string   `json:"target"`
	Consent  []string `json:"consent"` // the subscriber's: analytics, marketing
	// ExpiresDays ends the tracking (the link keeps redirecting); default
	// links.DefaultDays.
	ExpiresDays int `json:"expires_days"`
	// Subscriber is the newsletter tool's reference of the subscriber
	// (never an address): their events are erasable by user id
	// "subscriber:REF".
	Subscriber string `json:"subscriber"`
}

// HandleLinks signs a newsletter link and open pixel.
func (a *API) HandleLinks(w http.ResponseWriter, r *http.Request) error {
	var b linkBody
	if err := decode(r, &b); err != nil {
		return err
	}
	site, err := a.site(r, b.Site)
	if err != nil {
		return err
	}
	m := map[string]bool{}
	for _, c := range b.Consent {
		m[c] = true
	}
	granted, err := store.ParseCategories(m)
	if err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "consent: %v", err)
	}
	if b.ExpiresDays < 0 || b.ExpiresDays > links.MaxDays {
		return httpapi.Errorf(http.StatusBadRequest, "expires_days: want 1 to %d", links.MaxDays)
	}
	expires := a.opts.Now().UTC().Truncate(time.Second).AddDate(0, 0, cmp.Or(b.ExpiresDays, links.DefaultDays))
	tok, err := a.opts.Links.Sign(links.Link{SiteID: site.ID, Campaign: b.Campaign, LinkID: b.Link, Target: b.Target, Consent: granted,
		Expires: expires, Subscriber: b.Subscriber})
	if err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "%v", err)
	}
	base := a.opts.PublicURL
	out := map[string]any{"token": tok, "open_url": base + "/p/" + tok + ".gif", "recorded": granted.Has(store.ConsentMarketing)}
	if b.Target != "" {
		out["click_url"] = base + "/r/" + tok
	}
	if err := a.audit(r, "link_sign", site.Domain, map[string]string{"campaign": b.Campaign, "link": b.Link}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// HandleAudit is GET /api/v1/admin/audit?from=YYYY-MM-DD&to=YYYY-MM-DD&limit=N.
// It records every site's actions, so only an admin of every site reads it.
func (a *API) HandleAudit(w http.ResponseWriter, r *http.Request) error {
	if err := allSites(r); err != nil {
		return err
	}
	q := r.URL.Query()
	to := a.opts.Now().UTC().Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -30)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return httpapi.Errorf(http.StatusBadRequest, "%s: want YYYY-MM-DD", p.name)
			}
			*p.dst = t
		}
	}
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return httpapi.Errorf(http.StatusBadRequest, "limit: want 1 to 10000")
		}
		limit = n
	}
	entries, err := a.opts.Store.AuditLog(r.Context(), from, to.Add(24*time.Hour), limit)
	if err != nil {
		return err
	}
	type entry struct {
		Time   time.Time       `json:"time"`
		Actor  string          `json:"actor"`
		Action string          `json:"action"`
		Target string          `json:"target"`
		Detail json.RawMessage `json:"detail"`
	}
	out := make([]entry, 0, len(entries))
	for _, e := range entries {
		d := json.RawMessage(e.Detail)
		if !json.Valid(d) {
			d = json.RawMessage(strconv.Quote(e.Detail))
		}
		out = append(out, entry{e.Time, e.Actor, e.Action, strings.TrimSpace(e.Target), d})
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"entries": out})
	return nil
}
