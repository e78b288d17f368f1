package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/store/sqlite"
	"github.com/footfall/footfall/store/sqlite/sqlitetest"
	"github.com/footfall/footfall/web/admin"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/auth/authtest"
)

type rig struct {
	st      *sqlite.Store
	site    store.Site
	fixture *authtest.Fixture
	h       http.Handler
	signer  *links.Signer
}

func newRig(t *testing.T) *rig {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	site, err := st.AddSite(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	key, err := consent.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, site: site, signer: links.NewSigner([]store.ConsentKey{key})}
	r.fixture = authtest.New(t, st, auth.Options{Audit: st})
	configured := func(domain string) []store.Goal {
		if domain != "example.test" {
			return nil
		}
		return []store.Goal{{Name: "Signup", Event: "Signup"}}
	}
	api := admin.New(admin.Options{Store: st, Links: r.signer, Subjects: subject.New(subject.Options{Store: st}), Goals: configured})
	admins := r.fixture.Auth.Require(auth.RoleAdmin)
	m := mux.NewRouter()
	h := func(fn httpapi.HandlerFunc) http.Handler { return httpapi.Handle(nil, admins(fn)) }
	m.Handle("/api/v1/admin/erase", h(api.HandleErase)).Methods(http.MethodPost)
	m.Handle("/api/v1/admin/access", h(api.HandleAccess)).Methods(http.MethodGet)
	m.Handle("/api/v1/admin/links", h(api.HandleLinks)).Methods(http.MethodPost)
	m.Handle("/api/v1/admin/audit", h(api.HandleAudit)).Methods(http.MethodGet)
	m.Handle("/api/v1/admin/goals", h(api.HandleGoals)).Methods(http.MethodGet)
	m.Handle("/api/v1/admin/goals", h(api.HandleGoalWrite)).Methods(http.MethodPost)
	m.Handle("/api/v1/admin/goals/{id}", h(api.HandleGoalWrite)).Methods(http.MethodPut)
	m.Handle("/api/v1/admin/goals/{id}", h(api.HandleGoalDelete)).Methods(http.MethodDelete)
	r.h = m
	return r
}

func (r *rig) call(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+r.fixture.Token(auth.RoleAdmin))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	return w
}

func TestOnlyAdminsReachTheAdminAPI(t *testing.T) {
	r := newRig(t)
	admins := []auth.Role{auth.RoleAdmin}
	site, cid := r.site.ID, uuid.NewString()
	// Every admin route × every scope: a site's admin acts on its sites,
	// and what reaches every site (a consent id, a user id, the audit log)
	// is for admins of every site.
	r.fixture.Check(t, r.h, []authtest.Route{
		{Method: http.MethodPost, Path: "/api/v1/admin/erase", Body: `{"user_id":"nobody"}`, ContentType: "application/json", Roles: admins, AllSites: true},
		{Method: http.MethodPost, Path: "/api/v1/admin/erase", Body: `{"consent_id":"` + cid + `"}`, ContentType: "application/json", Roles: admins, AllSites: true},
		{Method: http.MethodPost, Path: "/api/v1/admin/erase", Body: `{"ip":"198.51.100.4","site":"example.test"}`, ContentType: "application/json", Roles: admins, Site: site},
		{Method: http.MethodGet, Path: "/api/v1/admin/access?user_id=nobody", Roles: admins, AllSites: true},
		{Method: http.MethodGet, Path: "/api/v1/admin/access?consent_id=" + cid, Roles: admins, AllSites: true},
		{Method: http.MethodGet, Path: "/api/v1/admin/access?ip=198.51.100.4&site=example.test", Roles: admins, Site: site},
		{Method: http.MethodPost, Path: "/api/v1/admin/links", Body: `{"site":"example.test","campaign":"c"}`, ContentType: "application/json", Roles: admins, Site: site},
		{Method: http.MethodGet, Path: "/api/v1/admin/audit", Roles: admins, AllSites: true},
		{Method: http.MethodGet, Path: "/api/v1/admin/goals?site=example.test", Roles: admins, Site: site},
		{Method: http.MethodPost, Path: "/api/v1/admin/goals?site=example.test", Body: `{"name":"","event":"x"}`, ContentType: "application/json", Roles: admins, Site: site},
		{Method: http.MethodPut, Path: "/api/v1/admin/goals/nope?site=example.test", Body: `{"name":"x","event":"x"}`, ContentType: "application/json", Roles: admins, Site: site},
		{Method: http.MethodDelete, Path: "/api/v1/admin/goals/nope?site=example.test", Roles: admins, Site: site},
	})
}

func TestEraseAccessLinksAudit(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	cid := uuid.New()
	now := time.Now().UTC().Truncate(time.Second)
	var events []store.Event
	for i := range 3 {
		events = append(events, store.Event{ID: uuid.New(), SiteID: r.site.ID, Type: store.Pageview, Time: now.Add(time.Duration(i) * time.Second),
			ReceivedAt: now, Host: "example.test", Path: "/", ConsentID: cid, IP: "198.51.100.4"})
	}
	if err := r.st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	w := r.call(t, http.MethodGet, "/api/v1/admin/access?ip=198.51.100.4&site=example.test", "")
	if w.Code != http.StatusOK || strings.Count(w.Body.String(), `"id"`) != 3 {
		t.Fatalf("access: %d %s", w.Code, w.Body)
	}
	w = r.call(t, http.MethodPost, "/api/v1/admin/erase", `{"consent_id":"`+cid.String()+`"}`)
	var receipt store.Receipt
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &receipt) != nil || receipt.ErasedEvents != 3 {
		t.Fatalf("erase: %d %s", w.Code, w.Body)
	}
	w = r.call(t, http.MethodGet, "/api/v1/admin/access?consent_id="+cid.String(), "")
	if !strings.Contains(w.Body.String(), `"events":[]`) {
		t.Errorf("access after erasure: %s", w.Body)
	}
	for _, bad := range []string{`{}`, `{"user_id":"a","consent_id":"b"}`, `{"ip":"198.51.100.4"}`, `{"consent_id":"nope"}`, `{"ip":"x","site":"example.test"}`, `{`} {
		if w := r.call(t, http.MethodPost, "/api/v1/admin/erase", bad); w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
			t.Errorf("erase %s: %d, want 400", bad, w.Code)
		}
	}

	w = r.call(t, http.MethodPost, "/api/v1/admin/links", `{"site":"example.test","campaign":"spring","link":"hero","target":"https://example.test/sale","consent":["marketing"]}`)
	var link struct {
		Token    string `json:"token"`
		Click    string `json:"click_url"`
		Recorded bool   `json:"recorded"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &link) != nil || !link.Recorded || !strings.HasSuffix(link.Click, "/r/"+link.Token) {
		t.Fatalf("links: %d %s", w.Code, w.Body)
	}
	if l, err := r.signer.Verify(link.Token); err != nil || l.Target != "https://example.test/sale" || l.SiteID != r.site.ID {
		t.Errorf("signed link = %+v, %v", l, err)
	}
	if w := r.call(t, http.MethodPost, "/api/v1/admin/links", `{"site":"example.test","campaign":"c","target":"javascript:alert(1)"}`); w.Code != http.StatusBadRequest {
		t.Errorf("a javascript: target: %d, want 400", w.Code)
	}

	w = r.call(t, http.MethodGet, "/api/v1/admin/audit", "")
	for _, want := range []string{`"action":"access"`, `"action":"erase"`, `"action":"link_sign"`, `"erased_events":3`, `"actor":"token:`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("audit log lacks %s: %s", want, w.Body)
		}
	}
	if strings.Contains(w.Body.String(), "198.51.100.4") {
		t.Errorf("the audit log holds the subject's IP: %s", w.Body)
	}
}
