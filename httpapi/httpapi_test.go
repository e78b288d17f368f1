package httpapi

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A handler served without the router logs its route by the name it was
// given; one served by Handle outside the router says it had none.
func TestHandleRouteNamesItsRoute(t *testing.T) {
	fail := func(http.ResponseWriter, *http.Request) error { return errors.New("store down") }
	for _, tt := range []struct {
		h    func(*slog.Logger) http.Handler
		want string
	}{
		{func(l *slog.Logger) http.Handler { return HandleRoute(l, "/api/event", fail) }, "route=/api/event"},
		{func(l *slog.Logger) http.Handler { return Handle(l, fail) }, `route="(no route)"`},
	} {
		var logs bytes.Buffer
		w := httptest.NewRecorder()
		tt.h(slog.New(slog.NewTextHandler(&logs, nil))).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/api/event?id=secret", nil))
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"internal error"`) {
			t.Errorf("answer %d %s, want 500 internal error", w.Code, w.Body)
		}
		if !strings.Contains(logs.String(), tt.want) || strings.Contains(logs.String(), "secret") {
			t.Errorf("log %q: want %s and not the path's query", logs.String(), tt.want)
		}
	}
}
