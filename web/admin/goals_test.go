package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type listedGoal struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Page   string            `json:"page"`
	Event  string            `json:"event"`
	Props  map[string]string `json:"props"`
	Source string            `json:"source"`
	Active bool              `json:"active"`
}

func TestGoalsAPI(t *testing.T) {
	r := newRig(t)
	list := func() []listedGoal {
		t.Helper()
		goals := listRaw(t, r)
		for i := range goals {
			goals[i].ID = strings.Repeat("x", len(goals[i].ID)) // random
		}
		return goals
	}
	builtin := listedGoal{Name: "404", Event: "404", Source: "builtin", Active: true}
	signup := listedGoal{Name: "Signup", Event: "Signup", Source: "config", Active: true}
	if diff := cmp.Diff([]listedGoal{builtin, signup}, list()); diff != "" {
		t.Errorf("goals before (-want +got):\n%s", diff)
	}

	w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", `{"name":"Pro","event":"Signup","props":{"plan":"pro"}}`)
	var pro struct{ ID string }
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &pro) != nil || len(pro.ID) != 32 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", `{"name":"Blog","page":"/blog/**"}`); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	id := strings.Repeat("x", 32)
	want := []listedGoal{builtin, signup, // then the stored ones by name
		{ID: id, Name: "Blog", Page: "/blog/**", Source: "api", Active: true},
		{ID: id, Name: "Pro", Event: "Signup", Props: map[string]string{"plan": "pro"}, Source: "api", Active: true}}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("goals after two creates (-want +got):\n%s", diff)
	}

	for _, tc := range []struct{ name, body string }{
		{"no name", `{"event":"x"}`},
		{"a semicolon", `{"name":"a;b","event":"x"}`},
		{"page and event", `{"name":"x","event":"x","page":"/"}`},
		{"neither", `{"name":"x"}`},
		{"a relative page", `{"name":"x","page":"blog"}`},
		{"props on a page", `{"name":"x","page":"/","props":{"a":"b"}}`},
		{"an empty prop value", `{"name":"x","event":"x","props":{"a":""}}`},
		{"malformed", `{"name":`},
	} {
		if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", tc.body); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"error"`) {
			t.Errorf("%s: %d %s, want 400 with an error", tc.name, w.Code, w.Body)
		}
	}
	for _, name := range []string{"Signup", "Pro"} { // the config's, a stored one's
		if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", `{"name":"`+name+`","event":"x"}`); w.Code != http.StatusConflict {
			t.Errorf("a second %s: %d %s, want 409", name, w.Code, w.Body)
		}
	}
	if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=other.test", `{"name":"x","event":"x"}`); w.Code != http.StatusNotFound {
		t.Errorf("an unknown site: %d %s, want 404", w.Code, w.Body)
	}

	// A change keeps the id, the author and the creation time.
	blogID := ""
	for _, g := range listRaw(t, r) {
		if g.Name == "Blog" {
			blogID = g.ID
		}
	}
	if w := r.call(t, http.MethodPut, "/api/v1/admin/goals/"+blogID+"?site=example.test", `{"name":"Blog posts","page":"/blog/*"}`); w.Code != http.StatusOK {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	want[2] = listedGoal{ID: id, Name: "Blog posts", Page: "/blog/*", Source: "api", Active: true}
	if diff := cmp.Diff(want, list()); diff != "" {
		t.Errorf("goals after an update (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name, id, body string
		code           int
	}{
		{"a taken name", blogID, `{"name":"Pro","event":"x"}`, http.StatusConflict},
		{"the config's name", blogID, `{"name":"Signup","event":"x"}`, http.StatusConflict},
		{"its own name", blogID, `{"name":"Blog posts","page":"/blog/**"}`, http.StatusOK},
		{"invalid", blogID, `{"name":"Blog posts"}`, http.StatusBadRequest},
		{"an unknown id", "nope", `{"name":"x","event":"x"}`, http.StatusNotFound},
	} {
		if w := r.call(t, http.MethodPut, "/api/v1/admin/goals/"+tc.id+"?site=example.test", tc.body); w.Code != tc.code {
			t.Errorf("update with %s: %d %s, want %d", tc.name, w.Code, w.Body, tc.code)
		}
	}
	want[2].Page = "/blog/**"

	if w := r.call(t, http.MethodDelete, "/api/v1/admin/goals/"+pro.ID+"?site=example.test", ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := r.call(t, http.MethodDelete, "/api/v1/admin/goals/"+pro.ID+"?site=example.test", ""); w.Code != http.StatusNotFound {
		t.Errorf("delete again: %d %s, want 404", w.Code, w.Body)
	}
	if diff := cmp.Diff([]listedGoal{builtin, signup, want[2]}, list()); diff != "" {
		t.Errorf("goals after a delete (-want +got):\n%s", diff)
	}

	// At most MaxGoals, the built-in one included.
	for i := range 47 {
		if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", fmt.Sprintf(`{"name":"g%d","event":"x"}`, i)); w.Code != http.StatusCreated {
			t.Fatalf("goal %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := r.call(t, http.MethodPost, "/api/v1/admin/goals?site=example.test", `{"name":"one too many","event":"x"}`); w.Code != http.StatusConflict {
		t.Errorf("the 51st goal: %d %s, want 409", w.Code, w.Body)
	}

	w = r.call(t, http.MethodGet, "/api/v1/admin/audit", "")
	for _, want := range []string{`"action":"goal_create"`, `"action":"goal_delete"`, `"action":"goal_update"`, `"target":"example.test"`, `"name":"Pro"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("audit log lacks %s: %s", want, w.Body)
		}
	}
}

// listRaw lists the goals of example.test with their ids.
func listRaw(t *testing.T, r *rig) []listedGoal {
	t.Helper()
	w := r.call(t, http.MethodGet, "/api/v1/admin/goals?site=example.test", "")
	var out struct{ Goals []listedGoal }
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	return out.Goals
}
