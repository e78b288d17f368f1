package reports

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/footfall/footfall/aggregator/report"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

// Analysts' notes on a site: annotations, dated notes drawn on the chart,
// and segments, named sets of filters that any stats report takes as
// segment=ID. Both are read and written by analysts of the site.

// Limits that keep a site's notes small: every list is read whole.
const (
	maxNoteText  = 300 // characters of an annotation
	maxNameLen   = 80  // characters of a segment's name
	maxNotes     = 500 // annotations of a site
	maxSegments  = 100 // segments of a site
	maxNotesBody = 4 << 10
)

// annotationJSON is an annotation as the API shows it.
type annotationJSON struct {
	ID        string    `json:"id"`
	Date      string    `json:"date"`
	Text      string    `json:"text"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// segmentJSON is a segment as the API shows it.
type segmentJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Filters   string    `json:"filters"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

func annotationOut(a store.Annotation) annotationJSON {
	return annotationJSON{ID: a.ID, Date: a.Day, Text: a.Text, Author: a.Author, CreatedAt: a.CreatedAt}
}

func segmentOut(g store.Segment) segmentJSON {
	return segmentJSON{ID: g.ID, Name: g.Name, Filters: g.Filters, Author: g.Author, CreatedAt: g.CreatedAt}
}

// noteSite reads the site parameter of a notes route.
func (h *Handler) noteSite(r *http.Request, path string) (store.Site, error) {
	q, err := query(r, path)
	if err != nil {
		return store.Site{}, err
	}
	return h.siteFor(r, q["site"])
}

// HandleAnnotations serves GET /api/v1/annotations: a site's annotations
// by date.
func (h *Handler) HandleAnnotations(w http.ResponseWriter, r *http.Request) error {
	site, err := h.noteSite(r, "/api/v1/annotations")
	if err != nil {
		return err
	}
	all, err := h.st.Annotations(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]annotationJSON, len(all))
	for i, a := range all {
		out[i] = annotationOut(a)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// HandleAnnotationWrite serves POST /api/v1/annotations (a new one, 201)
// and PUT /api/v1/annotations/{id} (a change, 200).
func (h *Handler) HandleAnnotationWrite(w http.ResponseWriter, r *http.Request) error {
	path, id := "/api/v1/annotations", httpapi.RouteVar(r, "id")
	if id != "" {
		path += "/{id}"
	}
	site, err := h.noteSite(r, path)
	if err != nil {
		return err
	}
	var b struct {
		Date string `json:"date"`
		Text string `json:"text"`
	}
	if err := httpapi.DecodeJSON(r, maxNotesBody, &b); err != nil {
		return err
	}
	b.Text = strings.TrimSpace(b.Text)
	if _, err := time.Parse(time.DateOnly, b.Date); err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "date: want YYYY-MM-DD")
	}
	if b.Text == "" || utf8.RuneCountInString(b.Text) > maxNoteText {
		return httpapi.Errorf(http.StatusBadRequest, "text: want 1 to %d characters", maxNoteText)
	}
	all, err := h.st.Annotations(r.Context(), site.ID)
	if err != nil {
		return err
	}
	a := store.Annotation{ID: id, SiteID: site.ID, Day: b.Date, Text: b.Text, Author: author(r), CreatedAt: h.now().UTC().Truncate(time.Second)}
	code := http.StatusCreated
	if id == "" {
		if len(all) >= maxNotes {
			return httpapi.Errorf(http.StatusConflict, "a site keeps at most %d annotations: delete one first", maxNotes)
		}
		a.ID = newNoteID()
	} else {
		i := slices.IndexFunc(all, func(x store.Annotation) bool { return x.ID == id })
		if i < 0 {
			return errNoNote
		}
		a.Author, a.CreatedAt, code = all[i].Author, all[i].CreatedAt, http.StatusOK
	}
	if err := h.st.PutAnnotation(r.Context(), a); err != nil {
		return err
	}
	httpapi.WriteJSON(w, code, annotationOut(a))
	return nil
}

// HandleAnnotationDelete serves DELETE /api/v1/annotations/{id}.
func (h *Handler) HandleAnnotationDelete(w http.ResponseWriter, r *http.Request) error {
	site, err := h.noteSite(r, "/api/v1/annotations/{id}")
	if err != nil {
		return err
	}
	return deleted(w, h.st.DeleteAnnotation(r.Context(), site.ID, httpapi.RouteVar(r, "id")))
}

// HandleSegments serves GET /api/v1/segments: a site's segments by name.
func (h *Handler) HandleSegments(w http.ResponseWriter, r *http.Request) error {
	site, err := h.noteSite(r, "/api/v1/segments")
	if err != nil {
		return err
	}
	all, err := h.st.Segments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	out := make([]segmentJSON, len(all))
	for i, g := range all {
		out[i] = segmentOut(g)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

// HandleSegmentWrite serves POST /api/v1/segments (a new one, 201) and
// PUT /api/v1/segments/{id} (a change, 200). Names are unique per site.
func (h *Handler) HandleSegmentWrite(w http.ResponseWriter, r *http.Request) error {
	path, id := "/api/v1/segments", httpapi.RouteVar(r, "id")
	if id != "" {
		path += "/{id}"
	}
	site, err := h.noteSite(r, path)
	if err != nil {
		return err
	}
	var b struct {
		Name    string `json:"name"`
		Filters string `json:"filters"`
	}
	if err := httpapi.DecodeJSON(r, maxNotesBody, &b); err != nil {
		return err
	}
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" || utf8.RuneCountInString(b.Name) > maxNameLen {
		return httpapi.Errorf(http.StatusBadRequest, "name: want 1 to %d characters", maxNameLen)
	}
	if fs, err := report.ParseFilters(b.Filters); err != nil {
		return badInput(err)
	} else if len(fs) == 0 {
		return httpapi.Errorf(http.StatusBadRequest, "filters: a segment needs at least one filter")
	}
	all, err := h.st.Segments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(all, func(x store.Segment) bool { return x.ID != id && strings.EqualFold(x.Name, b.Name) }) {
		return httpapi.Errorf(http.StatusConflict, "a segment named %q exists", b.Name)
	}
	g := store.Segment{ID: id, SiteID: site.ID, Name: b.Name, Filters: b.Filters, Author: author(r), CreatedAt: h.now().UTC().Truncate(time.Second)}
	code := http.StatusCreated
	if id == "" {
		if len(all) >= maxSegments {
			return httpapi.Errorf(http.StatusConflict, "a site keeps at most %d segments: delete one first", maxSegments)
		}
		g.ID = newNoteID()
	} else {
		i := slices.IndexFunc(all, func(x store.Segment) bool { return x.ID == id })
		if i < 0 {
			return errNoNote
		}
		g.Author, g.CreatedAt, code = all[i].Author, all[i].CreatedAt, http.StatusOK
	}
	if err := h.st.PutSegment(r.Context(), g); err != nil {
		return err
	}
	httpapi.WriteJSON(w, code, segmentOut(g))
	return nil
}

// HandleSegmentDelete serves DELETE /api/v1/segments/{id}.
func (h *Handler) HandleSegmentDelete(w http.ResponseWriter, r *http.Request) error {
	site, err := h.noteSite(r, "/api/v1/segments/{id}")
	if err != nil {
		return err
	}
	return deleted(w, h.st.DeleteSegment(r.Context(), site.ID, httpapi.RouteVar(r, "id")))
}

// withSegment puts the filters of the segment the stats query names
// (segment=ID) before its own filters; both must match.
func (h *Handler) withSegment(r *http.Request, q map[string]string, site store.Site) error {
	id, ok := q["segment"]
	if !ok {
		return nil
	}
	delete(q, "segment")
	all, err := h.st.Segments(r.Context(), site.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(g store.Segment) bool { return g.ID == id })
	if i < 0 {
		return httpapi.Errorf(http.StatusBadRequest, "segment %q: the site has no such segment", id)
	}
	if own := q["filters"]; own != "" {
		q["filters"] = all[i].Filters + ";" + own
	} else {
		q["filters"] = all[i].Filters
	}
	return nil
}

var errNoNote = httpapi.Errorf(http.StatusNotFound, "the site has no such item")

// deleted answers a delete: 204, or 404 when there was nothing to delete.
func deleted(w http.ResponseWriter, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errNoNote
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// author names the principal who wrote a note: the user's e-mail address
// or the token's label.
func author(r *http.Request) string {
	p, _ := auth.FromRequest(r)
	return p.Name
}

func newNoteID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
