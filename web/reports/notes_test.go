package reports_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/footfall/footfall/web/auth"
)

// send calls the router as an analyst with a JSON body.
func (e *env) send(t *testing.T, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.auth.Token(auth.RoleAnalyst))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

type note struct {
	ID, Date, Text, Name, Filters, Author string
}

func decodeNote(t *testing.T, rec *httptest.ResponseRecorder, code int) note {
	t.Helper()
	var n note
	if rec.Code != code {
		t.Fatalf("%d %s, want %d", rec.Code, rec.Body, code)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAnnotations(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const path = "/api/v1/annotations?site=shop.example"
		launch := decodeNote(t, e.send(t, http.MethodPost, path, `{"date":"2026-03-15","text":" Launch "}`), http.StatusCreated)
		sale := decodeNote(t, e.send(t, http.MethodPost, path, `{"date":"2026-03-14","text":"Sale"}`), http.StatusCreated)
		if launch.ID == "" || launch.ID == sale.ID || launch.Text != "Launch" || launch.Author == "" {
			t.Errorf("created %+v and %+v; want distinct ids, trimmed text, an author", launch, sale)
		}
		list := func() []note {
			var out struct{ Results []note }
			e.getJSON(t, path, &out)
			return out.Results
		}
		if diff := cmp.Diff([]note{sale, launch}, list()); diff != "" {
			t.Errorf("annotations by date (-want +got):\n%s", diff)
		}
		changed := decodeNote(t, e.send(t, http.MethodPut, "/api/v1/annotations/"+launch.ID+"?site=shop.example", `{"date":"2026-03-13","text":"Launch, moved"}`), http.StatusOK)
		if want := (note{ID: launch.ID, Date: "2026-03-13", Text: "Launch, moved", Author: launch.Author}); changed != want {
			t.Errorf("changed %+v, want %+v", changed, want)
		}
		if got := list(); len(got) != 2 || got[0] != changed {
			t.Errorf("after the change: %+v", got)
		}
		// Another site's path does not reach this site's annotation.
		if rec := e.send(t, http.MethodDelete, "/api/v1/annotations/"+sale.ID+"?site=other.example", ""); rec.Code != http.StatusNotFound {
			t.Errorf("delete through another site: %d %s, want 404", rec.Code, rec.Body)
		}
		if rec := e.send(t, http.MethodDelete, "/api/v1/annotations/"+sale.ID+"?site=shop.example", ""); rec.Code != http.StatusNoContent {
			t.Errorf("delete: %d %s, want 204", rec.Code, rec.Body)
		}
		if rec := e.send(t, http.MethodDelete, "/api/v1/annotations/"+sale.ID+"?site=shop.example", ""); rec.Code != http.StatusNotFound {
			t.Errorf("delete again: %d %s, want 404", rec.Code, rec.Body)
		}
		if got := list(); len(got) != 1 || got[0].ID != launch.ID {
			t.Errorf("after the delete: %+v", got)
		}
		for _, bad := range []struct{ name, method, path, body string }{
			{"bad date", http.MethodPost, path, `{"date":"14.03.2026","text":"x"}`},
			{"no text", http.MethodPost, path, `{"date":"2026-03-14","text":"  "}`},
			{"long text", http.MethodPost, path, `{"date":"2026-03-14","text":"` + strings.Repeat("é", 301) + `"}`},
			{"not JSON", http.MethodPost, path, `date=2026-03-14`},
			{"unknown parameter", http.MethodPost, path + "&x=1", `{"date":"2026-03-14","text":"x"}`},
			{"no site", http.MethodPost, "/api/v1/annotations", `{"date":"2026-03-14","text":"x"}`},
		} {
			if rec := e.send(t, bad.method, bad.path, bad.body); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("%s: %d %s, want 400 with a JSON error", bad.name, rec.Code, rec.Body)
			}
		}
		if rec := e.send(t, http.MethodPut, "/api/v1/annotations/nope?site=shop.example", `{"date":"2026-03-14","text":"x"}`); rec.Code != http.StatusNotFound {
			t.Errorf("change of an unknown id: %d, want 404", rec.Code)
		}
	})
}

func TestSegments(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const path = "/api/v1/segments?site=shop.example"
		de := decodeNote(t, e.send(t, http.MethodPost, path, `{"name":"Germany","filters":"country==DE"}`), http.StatusCreated)
		if rec := e.send(t, http.MethodPost, path, `{"name":"germany","filters":"country==FR"}`); rec.Code != http.StatusConflict {
			t.Errorf("a second segment of the same name: %d %s, want 409", rec.Code, rec.Body)
		}
		for _, bad := range []struct{ name, body string }{
			{"unknown dimension", `{"name":"x","filters":"colour==red"}`},
			{"no filter", `{"name":"x","filters":""}`},
			{"no name", `{"name":"","filters":"country==DE"}`},
		} {
			if rec := e.send(t, http.MethodPost, path, bad.body); rec.Code != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", bad.name, rec.Code, rec.Body)
			}
		}

		// A report of a segment is the report of its filters, and a
		// segment with filters of the request is all of them.
		stats := "/api/v1/stats/aggregate?site=shop.example&period=custom&from=2026-03-14&to=2026-03-15&metrics=visitors,visits,pageviews,bounce_rate"
		same := func(a, b string) {
			t.Helper()
			var x, y map[string]any
			e.getJSON(t, a, &x)
			e.getJSON(t, b, &y)
			if diff := cmp.Diff(x, y); diff != "" {
				t.Errorf("%s differs from %s (-a +b):\n%s", a, b, diff)
			}
		}
		same(stats+"&segment="+de.ID, stats+"&filters=country==DE")
		same(stats+"&segment="+de.ID+"&filters=device==mobile", stats+"&filters=country==DE;device==mobile")
		same("/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=page&segment="+de.ID,
			"/api/v1/stats/breakdown?site=shop.example&period=day&date=2026-03-14&property=page&filters=country==DE")
		var all, seg map[string]any
		e.getJSON(t, stats, &all)
		e.getJSON(t, stats+"&segment="+de.ID, &seg)
		if cmp.Equal(all, seg) {
			t.Error("the segment's report equals the unfiltered one: the fixture cannot tell them apart")
		}
		if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), stats+"&segment=nope"); rec.Code != http.StatusBadRequest {
			t.Errorf("an unknown segment: %d %s, want 400", rec.Code, rec.Body)
		}

		// Renamed and refiltered; then gone.
		changed := decodeNote(t, e.send(t, http.MethodPut, "/api/v1/segments/"+de.ID+"?site=shop.example", `{"name":"Mobile","filters":"device==mobile"}`), http.StatusOK)
		if changed.Name != "Mobile" || changed.Filters != "device==mobile" || changed.ID != de.ID {
			t.Errorf("changed %+v", changed)
		}
		same(stats+"&segment="+de.ID, stats+"&filters=device==mobile")
		var list struct{ Results []note }
		e.getJSON(t, path, &list)
		if len(list.Results) != 1 || list.Results[0] != changed {
			t.Errorf("segments %+v, want [%+v]", list.Results, changed)
		}
		if rec := e.send(t, http.MethodDelete, "/api/v1/segments/"+de.ID+"?site=shop.example", ""); rec.Code != http.StatusNoContent {
			t.Errorf("delete: %d %s", rec.Code, rec.Body)
		}
		if rec := e.get(t, e.auth.Token(auth.RoleAnalyst), stats+"&segment="+de.ID); rec.Code != http.StatusBadRequest {
			t.Errorf("a deleted segment: %d, want 400", rec.Code)
		}
	})
}
