package reports_test

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gorilla/mux"
	"go.yaml.in/yaml/v3"

	"github.com/footfall/footfall/server"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/admin"
	"github.com/footfall/footfall/web/auth"
	"github.com/footfall/footfall/web/reports"
	"github.com/footfall/footfall/web/share"
	"github.com/footfall/footfall/web/unsubscribe"
)

// subjectRights are the subject-rights routes docs/openapi.yaml documents
// (a visitor's data, the admin API's access and erasure: collector/subject
// serves them all) with the query parameters each reads.
var subjectRights = map[string][]string{
	"/api/consent/{id}/data": nil,
	"/api/v1/admin/access":   {"consent_id", "user_id", "ip", "site"},
	"/api/v1/admin/erase":    nil,
}

// TestOpenAPIInStep holds docs/openapi.yaml to the router and the handlers:
// the documented paths and methods are the reports, subject-rights and
// share link routes the router serves, and each route's documented query
// parameters are exactly those its handler reads (reports.Params and
// share.Params, which the handlers enforce; subjectRights). The unsubscribe links of the e-mail reports are
// documented there too.
func TestOpenAPIInStep(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name string `yaml:"name"`
				In   string `yaml:"in"`
			} `yaml:"parameters"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi: got %q, want 3.0.x", doc.OpenAPI)
	}

	documented := map[string][]string{} // "METHOD path" → query parameters
	for path, ops := range doc.Paths {
		for method, op := range ops {
			var params []string
			for _, p := range op.Parameters {
				if p.In == "query" {
					params = append(params, p.Name)
				}
			}
			sort.Strings(params)
			documented[strings.ToUpper(method)+" "+path] = params
		}
	}

	sh, err := share.New(share.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Options{Auth: auth.New(auth.Options{}), Reports: reports.New(reports.Options{}), Unsubscribe: unsubscribe.New(nil, nil),
		Admin: admin.New(admin.Options{}), Share: sh})
	if u, ok := h.(interface{ Unwrap() http.Handler }); ok {
		h = u.Unwrap()
	}
	router, ok := h.(*mux.Router)
	if !ok {
		t.Fatalf("server.New returned %T, want *mux.Router", h)
	}
	served := map[string][]string{}
	err = router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		params, mine := reports.Params[path]
		rights, subj := subjectRights[path]
		if subj {
			params = rights
		}
		if goals, ok := admin.Params[path]; ok {
			params, subj = goals, true
		}
		_, doc := doc.Paths[path]
		methods, _ := route.GetMethods()
		for _, m := range methods {
			if m == http.MethodOptions {
				continue // a CORS preflight, not an operation
			}
			if shared, ok := share.Params[m+" "+path]; ok {
				shared := slices.Clone(shared)
				sort.Strings(shared)
				served[m+" "+path] = shared
				continue
			}
			if !mine && !subj && !doc {
				continue // neither a reports, a subject-rights nor a share link route
			}
			params := slices.Clone(params)
			sort.Strings(params)
			served[m+" "+path] = params
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	shared := 0
	for route := range served {
		_, path, _ := strings.Cut(route, " ")
		if _, mine := reports.Params[path]; mine {
			paths[path] = true
		}
		if _, ok := share.Params[route]; ok {
			shared++
		}
	}
	if len(paths) != len(reports.Params) {
		t.Errorf("the router serves %d reports paths, reports.Params lists %d", len(paths), len(reports.Params))
	}
	if shared != len(share.Params) {
		t.Errorf("the router serves %d share link API routes, share.Params lists %d", shared, len(share.Params))
	}
	if diff := cmp.Diff(served, documented, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("routes and their query parameters: served (-) vs documented (+):\n%s", diff)
	}
}

// TestOpenAPIRawEventIsStoreEvent holds the documented RawEvent to the one
// JSON shape of a raw event, store.Event's: the same property names.
func TestOpenAPIRawEventIsStoreEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	var documented []string
	for name := range doc.Components.Schemas["RawEvent"].Properties {
		documented = append(documented, name)
	}
	var fields []string
	for f := range reflect.TypeFor[store.Event]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	sort.Strings(documented)
	sort.Strings(fields)
	if diff := cmp.Diff(fields, documented); diff != "" {
		t.Errorf("RawEvent's properties: store.Event's JSON names (-) vs documented (+):\n%s", diff)
	}
}
