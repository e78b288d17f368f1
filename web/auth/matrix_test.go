package auth_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
)

// TestAuthorisationMatrix walks routes of every kind × every caller: the
// same helper checks the reports and partner APIs.
func TestAuthorisationMatrix(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "footfall.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	f := authtest.New(t, st, auth.Options{})
	a := f.Auth

	// data answers with something a refused caller must never see.
	data := func(w http.ResponseWriter, r *http.Request) error {
		httpapi.WriteJSON(w, http.StatusOK, map[string]int{"pageviews": 1234})
		return nil
	}
	// site is a handler that enforces the site scope, as report handlers do.
	site := func(w http.ResponseWriter, r *http.Request) error {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 32)
		if err != nil {
			return httpapi.Errorf(http.StatusBadRequest, "bad site id")
		}
		p, _ := auth.FromRequest(r)
		if !p.CanSite(uint32(id)) {
			return httpapi.Errorf(http.StatusForbidden, "forbidden")
		}
		return data(w, r)
	}
	mux := http.NewServeMux()
	handle := func(pattern string, fn httpapi.HandlerFunc) { mux.Handle(pattern, httpapi.Handle(nil, fn)) }
	handle("GET /api/v1/me", a.Require()(a.HandleMe))
	handle("GET /reports", a.Require(auth.RoleAnalyst)(data))
	handle("POST /reports", a.Require(auth.RoleAnalyst)(data))
	handle("DELETE /admin/thing", a.Require(auth.RoleAdmin)(data))
	handle("GET /partner", a.Require(auth.RolePartner)(data))
	handle("GET /sites/{id}", a.Require(auth.RoleAnalyst, auth.RolePartner)(site))

	f.Check(t, mux, []authtest.Route{
		{Method: http.MethodGet, Path: "/api/v1/me"},
		{Method: http.MethodGet, Path: "/reports?format=csv", Roles: []auth.Role{auth.RoleAnalyst}},
		{Method: http.MethodPost, Path: "/reports", Body: `{"x":1}`, ContentType: "application/json", Roles: []auth.Role{auth.RoleAnalyst}},
		{Method: http.MethodDelete, Path: "/admin/thing", Roles: []auth.Role{auth.RoleAdmin}},
		{Method: http.MethodGet, Path: "/partner", Roles: []auth.Role{auth.RolePartner}},
		{Method: http.MethodGet, Path: "/sites/77", Roles: []auth.Role{auth.RoleAnalyst, auth.RolePartner}, Site: 77},
	})
}
