// Package admin is the administrators' API: erasure and access requests
// for one subject, signed newsletter links, and the audit log. Every
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
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Store is what the admin API reads and changes.
type Store interface {
	SiteByDomain(ctx context.Context, domain string) (store.Site, error)
	SubjectEvents(ctx context.Context, sub store.Subject) ([]store.Event, error)
	EraseSubject(ctx context.Context, sub store.Subject) (int64, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	AuditLog(ctx context.Context, from, to time.Time, limit int) ([]store.AuditEntry, error)
}

// Erasures records an erasure of a consent id's events and waits for it.
type Erasures interface {
	Request(ctx context.Context, id uuid.UUID, at time.Time) error
	Wait(ctx context.Context, id uuid.UUID, at time.Time) (store.Erasure, error)
}

// Options are what the admin API needs.
type Options struct {
	Store Store
	// Links signs newsletter links (the collector's signer, so its keys
	// rotate with the consent keys).
	Links *links.Signer
	// Flush writes out the collector's queued events, so an erasure also
	// covers events accepted a moment before it.
	Flush func(ctx context.Context) error
	// Erasures erases a consent id's events as durable work (recorded,
	// then driven to done by serve's loop); nil erases them through Store
	// like any other subject.
	Erasures Erasures
	// PublicURL is the base of the links HandleLinks answers with
	// (serve's -public-url), such as https://stats.example.com. Never the
	// request's Host header: a client chooses that, and the links go out
	// in newsletters.
	PublicURL string
	Now       func() time.Time
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
	if opts.Flush == nil {
		opts.Flush = func(context.Context) error { return nil }
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
		return store.Subject{ConsentID: id}, "consent:" + id.String(), nil
	case b.UserID != "":
		if len(b.UserID) > 128 {
			return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "user_id: at most 128 bytes")
		}
		return store.Subject{UserID: b.UserID}, "user_id", nil
	}
	if _, err := netip.ParseAddr(b.IP); err != nil {
		return store.Subject{}, "", httpapi.Errorf(http.StatusBadRequest, "ip: not an IP address")
	}
	site, err := a.site(r, b.Site)
	if err != nil {
		return store.Subject{}, "", err
	}
	return store.Subject{IP: b.IP, SiteID: site.ID}, "ip on " + site.Domain, nil
}

// site finds a site the caller may act on. To an admin scoped to some
// sites, an unknown site is as forbidden as another one: the answer does
// not tell which domains exist.
func (a *API) site(r *http.Request, domain string) (store.Site, error) {
	p, _ := auth.FromRequest(r)
	d, err := store.NormalizeDomain(domain)
	if err != nil {
		return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "site: %v", err)
	}
	s, err := a.opts.Store.SiteByDomain(r.Context(), d)
	switch {
	case errors.Is(err, store.ErrNotFound) && p.Sites != nil:
		return store.Site{}, errOutOfScope
	case errors.Is(err, store.ErrNotFound):
		return store.Site{}, httpapi.Errorf(http.StatusNotFound, "unknown site %q", d)
	case err != nil:
		return store.Site{}, err
	case !p.CanSite(s.ID):
		return store.Site{}, errOutOfScope
	}
	return s, nil
}

var (
	errOutOfScope = httpapi.Errorf(http.StatusForbidden, "forbidden: the site is not in your scope")
	errAllSites   = httpapi.Errorf(http.StatusForbidden, "forbidden: this needs an admin of every site (a site's admin may give ip and site)")
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

// Receipt says what an erasure removed.
type Receipt struct {
	Subject string `json:"subject"`
	// Erasure is "erased", or "scheduled" when a consent id's erasure is
	// recorded and still running (it finishes regardless).
	Erasure      string    `json:"erasure"`
	ErasedEvents int64     `json:"erased_events"`
	ErasedAt     time.Time `json:"erased_at,omitzero"`
	Scope        string    `json:"scope"`
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
	receipt, err := a.erase(r.Context(), sub)
	if err != nil {
		return err
	}
	receipt.Subject = label
	if err := a.audit(r, "erase", label, receipt); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, receipt)
	return nil
}

// eraseWait bounds how long the admin API waits for a consent id's
// erasure; past it the receipt says "scheduled" and serve's erasure loop
// finishes it.
const eraseWait = 30 * time.Second

// erase erases a subject's raw events: a consent id through the durable
// erasures, a user id or an IP at once after the queue is written out.
func (a *API) erase(ctx context.Context, sub store.Subject) (Receipt, error) {
	now := a.opts.Now().UTC().Truncate(time.Second)
	if sub.ConsentID != uuid.Nil && a.opts.Erasures != nil {
		if err := a.opts.Erasures.Request(ctx, sub.ConsentID, now); err != nil {
			return Receipt{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not record the erasure request, retry later", Err: err}
		}
		wctx, cancel := context.WithTimeout(ctx, eraseWait)
		defer cancel()
		e, err := a.opts.Erasures.Wait(wctx, sub.ConsentID, now)
		if err != nil {
			return Receipt{Erasure: "scheduled", Scope: "raw events"}, nil
		}
		return Receipt{Erasure: "erased", ErasedEvents: e.Erased, ErasedAt: e.Done, Scope: "raw events"}, nil
	}
	if err := a.opts.Flush(ctx); err != nil {
		return Receipt{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not erase now, retry later", Err: err}
	}
	n, err := a.opts.Store.EraseSubject(ctx, sub)
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{Erasure: "erased", ErasedEvents: n, ErasedAt: now, Scope: "raw events"}, nil
}

// HandleAccess is GET /api/v1/admin/access?consent_id=|user_id=|ip=&site=.
func (a *API) HandleAccess(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	sub, label, err := a.subject(r, subjectBody{ConsentID: q.Get("consent_id"), UserID: q.Get("user_id"), IP: q.Get("ip"), Site: q.Get("site")})
	if err != nil {
		return err
	}
	events, err := a.opts.Store.SubjectEvents(r.Context(), sub)
	if err != nil {
		return err
	}
	if events == nil {
		events = []store.Event{}
	}
	if err := a.audit(r, "access", label, map[string]int{"events": len(events)}); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"subject": label, "events": events})
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
