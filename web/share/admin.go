package share

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Limits of a new link.
const (
	maxNameLen        = 100
	maxFrameAncestors = 10
	maxExpiresDays    = 3660
)

// Link is a share link as the admin API lists it: never its secret or its
// password.
type Link struct {
	ID             string    `json:"id"`
	Site           string    `json:"site"`
	Name           string    `json:"name"`
	Password       bool      `json:"password"`
	Embed          bool      `json:"embed"`
	FrameAncestors []string  `json:"frame_ancestors"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at,omitzero"`
	RevokedAt      time.Time `json:"revoked_at,omitzero"`
	// State is active, expired or revoked.
	State string `json:"state"`
}

func (h *Handler) listed(l store.ShareLink, domain string) Link {
	state := "active"
	switch {
	case l.Revoked():
		state = "revoked"
	case l.Expired(h.opts.Now()):
		state = "expired"
	}
	origins := l.FrameAncestors
	if origins == nil {
		origins = []string{}
	}
	return Link{ID: l.ID, Site: domain, Name: l.Name, Password: l.PasswordHash != "", Embed: l.Embed,
		FrameAncestors: origins, CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt,
		RevokedAt: l.RevokedAt, State: state}
}

// scopedSite finds a site the caller administers (auth.SiteInScope).
func (h *Handler) scopedSite(r *http.Request, domain string) (store.Site, error) {
	return auth.SiteInScope(r, h.opts.Store, domain)
}

// HandleList is GET /api/v1/admin/shares[?site=D]: the links of the sites
// the caller administers (of D only, with site), revoked and expired ones
// too, oldest first.
func (h *Handler) HandleList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "site" {
			return httpapi.Errorf(http.StatusBadRequest, "unknown parameter %q", k)
		}
	}
	p, _ := auth.FromRequest(r)
	only := uint32(0)
	if d := q.Get("site"); d != "" {
		s, err := h.scopedSite(r, d)
		if err != nil {
			return err
		}
		only = s.ID
	}
	sites, err := h.opts.Store.Sites(r.Context())
	if err != nil {
		return err
	}
	domains := map[uint32]string{}
	for _, s := range sites {
		domains[s.ID] = s.Domain
	}
	links, err := h.opts.Store.ShareLinks(r.Context())
	if err != nil {
		return err
	}
	out := []Link{}
	for _, l := range links {
		if !p.CanSite(l.SiteID) || only != 0 && l.SiteID != only {
			continue
		}
		out = append(out, h.listed(l, domains[l.SiteID]))
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"links": out})
	return nil
}

// createBody is POST /api/v1/admin/shares.
type createBody struct {
	Site     string `json:"site"`
	Name     string `json:"name"`
	Password string `json:"password"`
	// Embed makes a link for an iframe on the pages of FrameAncestors.
	Embed          bool     `json:"embed"`
	FrameAncestors []string `json:"frame_ancestors"`
	// ExpiresDays ends the link that many days from now; 0 never.
	ExpiresDays int `json:"expires_days"`
}

// HandleCreate is POST /api/v1/admin/shares: a new link, shown once.
func (h *Handler) HandleCreate(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 8<<10))
	if err != nil {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "body over 8 KiB")
	}
	var b createBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "malformed JSON or unknown field", Err: err}
	}
	site, err := h.scopedSite(r, b.Site)
	if err != nil {
		return err
	}
	var problems []string
	if len(b.Name) > maxNameLen || strings.ContainsFunc(b.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		problems = append(problems, fmt.Sprintf("name: at most %d bytes, no control characters", maxNameLen))
	}
	if b.ExpiresDays < 0 || b.ExpiresDays > maxExpiresDays {
		problems = append(problems, fmt.Sprintf("expires_days: want 0 (never) to %d", maxExpiresDays))
	}
	origins, err := frameAncestors(b.Embed, b.FrameAncestors)
	if err != nil {
		problems = append(problems, err.Error())
	}
	var hash string
	if b.Password != "" {
		if err := auth.CheckPasswordStrength(b.Password, site.Domain, b.Name); err != nil {
			problems = append(problems, err.Error())
		} else if hash, err = auth.HashPassword(b.Password); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return httpapi.Errorf(http.StatusBadRequest, "%s", strings.Join(problems, "; "))
	}
	id, secretHash, link, err := newLink()
	if err != nil {
		return err
	}
	p, _ := auth.FromRequest(r)
	now := h.opts.Now().UTC().Truncate(time.Second)
	l := store.ShareLink{ID: id, SecretHash: secretHash, SiteID: site.ID, Name: b.Name, PasswordHash: hash,
		Embed: b.Embed, FrameAncestors: origins, CreatedBy: string(p.Kind) + ":" + p.ID, CreatedAt: now}
	if b.ExpiresDays > 0 {
		l.ExpiresAt = now.AddDate(0, 0, b.ExpiresDays)
	}
	if err := h.opts.Store.AddShareLink(r.Context(), l); err != nil {
		return err
	}
	detail, err := json.Marshal(map[string]any{"site": site.Domain, "embed": l.Embed, "frame_ancestors": origins,
		"password": hash != "", "expires_at": l.ExpiresAt})
	if err != nil {
		return err
	}
	if err := h.audit(r.Context(), l.CreatedBy, "share_create", l, string(detail)); err != nil {
		return err
	}
	u := h.opts.PublicURL + "/share/" + link
	out := map[string]any{"link": h.listed(l, site.Domain), "url": u}
	if l.Embed {
		out["iframe"] = `<iframe src="` + html.EscapeString(u) + `" title="` + html.EscapeString("Statistics of "+site.Domain) +
			`" width="800" height="600" style="border:0" referrerpolicy="no-referrer"></iframe>`
	}
	httpapi.WriteJSON(w, http.StatusCreated, out)
	return nil
}

// frameAncestors checks the origins an embed link may be framed by: each a
// scheme (http or https), a host and an optional port, nothing else, so
// that none can add a directive to the Content-Security-Policy.
func frameAncestors(embed bool, in []string) ([]string, error) {
	if !embed {
		if len(in) > 0 {
			return nil, errors.New("frame_ancestors: only for an embed link")
		}
		return nil, nil
	}
	if len(in) == 0 || len(in) > maxFrameAncestors {
		return nil, fmt.Errorf("frame_ancestors: an embed link needs 1 to %d origins (such as https://blog.example.com)", maxFrameAncestors)
	}
	var out []string
	for _, o := range in {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o, " ;,'\"*") {
			return nil, fmt.Errorf("frame_ancestors: %q is not an origin such as https://blog.example.com", o)
		}
		if port := u.Port(); port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("frame_ancestors: %q has a bad port", o)
			}
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host))
	}
	return out, nil
}

// HandleRevoke is DELETE /api/v1/admin/shares/{id}: the link stops working
// at once (410).
func (h *Handler) HandleRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	id := httpapi.RouteVar(r, "id")
	if !linkID.MatchString(id) {
		return httpapi.Errorf(http.StatusNotFound, "no such share link")
	}
	l, err := h.opts.Store.ShareLink(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return httpapi.Errorf(http.StatusNotFound, "no such share link")
	}
	if err != nil {
		return err
	}
	if p, _ := auth.FromRequest(r); !p.CanSite(l.SiteID) {
		return auth.ErrOutOfScope
	}
	site, err := h.site(r.Context(), l.SiteID)
	if err != nil {
		return err
	}
	if !l.Revoked() {
		now := h.opts.Now().UTC().Truncate(time.Second)
		if err := h.opts.Store.RevokeShareLink(r.Context(), id, now); err != nil {
			return err
		}
		p, _ := auth.FromRequest(r)
		detail, err := json.Marshal(map[string]string{"site": site.Domain})
		if err != nil {
			return err
		}
		if err := h.audit(r.Context(), string(p.Kind)+":"+p.ID, "share_revoke", l, string(detail)); err != nil {
			return err
		}
		l.RevokedAt = now
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"link": h.listed(l, site.Domain)})
	return nil
}
