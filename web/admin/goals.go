package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// A site's goals: the config file's (read-only here: the operator's word,
// changed by editing the file), the built-in 404, and those admins add and
// delete through this API. The reports read them merged (store.MergeGoals):
// a configured goal's name shadows a stored one's.

// goalJSON is a goal as the API shows it.
type goalJSON struct {
	ID    string            `json:"id,omitempty"` // stored goals only: what DELETE takes
	Name  string            `json:"name"`
	Page  string            `json:"page,omitempty"`
	Event string            `json:"event,omitempty"`
	Props map[string]string `json:"props,omitempty"`
	// Source is where the goal comes from: "builtin", "config" or "api".
	Source string `json:"source"`
	// Active is false for a stored goal the reports leave out: a
	// configured goal has its name, or the site has MaxGoals before it.
	Active    bool       `json:"active"`
	Author    string     `json:"author,omitempty"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
}

func goalOut(g store.Goal, source string) goalJSON {
	out := goalJSON{Name: g.Name, Page: g.Page, Event: g.Event, Source: source, Active: true}
	for _, p := range g.Props {
		if out.Props == nil {
			out.Props = map[string]string{}
		}
		out.Props[p.Key] = p.Value
	}
	return out
}

func storedGoalOut(g store.SiteGoal, active bool) goalJSON {
	out := goalOut(g.Goal, "api")
	out.ID, out.Active, out.Author, out.CreatedAt = g.ID, active, g.Author, &g.CreatedAt
	return out
}

// goalsOf reads a site's goals: the configured ones, the stored ones and
// the merged list the reports read.
func (a *API) goalsOf(r *http.Request, site store.Site) (configured []store.Goal, stored []store.SiteGoal, merged []store.Goal, err error) {
	if a.opts.Goals != nil {
		configured = a.opts.Goals(site.Domain)
	}
	stored, err = a.opts.Store.Goals(r.Context(), site.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	return configured, stored, store.MergeGoals(configured, stored), nil
}

// Params are the query parameters of the goals routes, by path (held to
// docs/openapi.yaml by web/reports TestOpenAPIInStep).
var Params = map[string][]string{
	"/api/v1/admin/goals":      {"site"},
	"/api/v1/admin/goals/{id}": {"site"},
}

// goalSite reads the site parameter of a goals route, the only one.
func (a *API) goalSite(r *http.Request) (store.Site, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "site" {
			return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "unknown parameter %q", k)
		}
	}
	if q.Get("site") == "" {
		return store.Site{}, httpapi.Errorf(http.StatusBadRequest, "site is required")
	}
	return a.site(r, q.Get("site"))
}

// HandleGoals is GET /api/v1/admin/goals?site=D: the site's goals in the
// order the reports list them, then the stored ones they leave out.
func (a *API) HandleGoals(w http.ResponseWriter, r *http.Request) error {
	site, err := a.goalSite(r)
	if err != nil {
		return err
	}
	configured, stored, merged, err := a.goalsOf(r, site)
	if err != nil {
		return err
	}
	out := []goalJSON{}
	taken := map[string]bool{}
	for _, g := range merged {
		taken[g.Name] = true
		switch i := slices.IndexFunc(stored, func(s store.SiteGoal) bool { return s.Name == g.Name }); {
		case slices.ContainsFunc(configured, func(c store.Goal) bool { return c.Name == g.Name }):
			out = append(out, goalOut(g, "config"))
		case i >= 0:
			out = append(out, storedGoalOut(stored[i], true))
		default:
			out = append(out, goalOut(g, "builtin"))
		}
	}
	for _, g := range stored {
		if !taken[g.Name] || slices.ContainsFunc(configured, func(c store.Goal) bool { return c.Name == g.Name }) {
			out = append(out, storedGoalOut(g, false))
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"goals": out})
	return nil
}

// HandleGoalWrite is POST /api/v1/admin/goals?site=D (a new goal, 201)
// and PUT /api/v1/admin/goals/{id}?site=D (a change of one added here,
// 200; the config file's have no id). A goal is checked as the config
// file's are, its name not taken by another of the site's goals (the
// built-in 404 aside, which a goal of that name replaces).
func (a *API) HandleGoalWrite(w http.ResponseWriter, r *http.Request) error {
	site, err := a.goalSite(r)
	if err != nil {
		return err
	}
	var b config.Goal // as the config file has it
	if err := decode(r, &b); err != nil {
		return err
	}
	g := b.Store()
	if err := g.Validate(); err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "%v", err)
	}
	configured, stored, merged, err := a.goalsOf(r, site)
	if err != nil {
		return err
	}
	id := httpapi.RouteVar(r, "id")
	named := func(x store.Goal) bool { return x.Name == g.Name }
	if slices.ContainsFunc(configured, named) || slices.ContainsFunc(stored, func(s store.SiteGoal) bool { return s.ID != id && named(s.Goal) }) {
		return httpapi.Errorf(http.StatusConflict, "the site has a goal named %q", g.Name)
	}
	p, _ := auth.FromRequest(r)
	sg := store.SiteGoal{ID: id, SiteID: site.ID, Goal: g, Author: p.Name, CreatedAt: a.opts.Now().UTC().Truncate(time.Second)}
	code, action := http.StatusOK, "goal_update"
	if id == "" {
		if len(merged) >= store.MaxGoals && g.Name != store.NotFoundGoal.Name {
			return httpapi.Errorf(http.StatusConflict, "a site has at most %d goals, the built-in %q included: delete one first", store.MaxGoals, store.NotFoundGoal.Name)
		}
		sg.ID, code, action = newGoalID(), http.StatusCreated, "goal_create"
	} else {
		i := slices.IndexFunc(stored, func(x store.SiteGoal) bool { return x.ID == id })
		if i < 0 {
			return errNoGoal
		}
		sg.Author, sg.CreatedAt = stored[i].Author, stored[i].CreatedAt
	}
	if err := a.opts.Store.PutGoal(r.Context(), sg); err != nil {
		return err
	}
	active := !slices.ContainsFunc(configured, named)
	if err := a.audit(r, action, site.Domain, storedGoalOut(sg, active)); err != nil {
		return err
	}
	httpapi.WriteJSON(w, code, storedGoalOut(sg, active))
	return nil
}

// HandleGoalDelete is DELETE /api/v1/admin/goals/{id}?site=D: a goal added
// through the API (the config file's have no id).
func (a *API) HandleGoalDelete(w http.ResponseWriter, r *http.Request) error {
	site, err := a.goalSite(r)
	if err != nil {
		return err
	}
	id := httpapi.RouteVar(r, "id")
	stored, err := a.opts.Store.Goals(r.Context(), site.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(stored, func(g store.SiteGoal) bool { return g.ID == id })
	if i < 0 {
		return errNoGoal
	}
	if err := a.opts.Store.DeleteGoal(r.Context(), site.ID, id); errors.Is(err, store.ErrNotFound) {
		return errNoGoal
	} else if err != nil {
		return err
	}
	if err := a.audit(r, "goal_delete", site.Domain, storedGoalOut(stored[i], false)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errNoGoal = httpapi.Errorf(http.StatusNotFound, "the site has no such goal (goals of the config file are changed there)")

func newGoalID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
