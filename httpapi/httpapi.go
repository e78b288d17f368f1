// Package httpapi is how Footfall's HTTP handlers answer: a handler returns an
// error, and one adapter turns it into a JSON response and a log line. Clients
// see only the message meant for them; internal causes stay in the log.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
)

// Error is an error with the status and message a client should see. Err is
// the internal cause: logged, never sent.
type Error struct {
	Code int
	Msg  string
	Err  error
	// Reported says the handler has accounted for this failure itself (a
	// periodic summary of overload, say): Handle sends the response but
	// logs nothing, so a flood of refusals is not a flood of log lines.
	Reported bool
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, e.Msg, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a client error with a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// HandlerFunc is an HTTP handler that returns an error instead of writing one.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h: a returned *Error is sent as JSON {"error": Msg} with its
// code; any other error is a 500 with a generic message, logged with its cause.
// Log lines carry the method and route template, never the client's
// address, the path's values or the body.
func Handle(log *slog.Logger, h HandlerFunc) http.Handler {
	return handle(log, "", h)
}

// HandleRoute is Handle for a handler served without the router (the
// beacon's own path, server.New): its log lines name the route name.
func HandleRoute(log *slog.Logger, name string, h HandlerFunc) http.Handler {
	return handle(log, name, h)
}

func handle(log *slog.Logger, name string, h HandlerFunc) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var he *Error
		if !errors.As(err, &he) {
			he = &Error{Code: http.StatusInternalServerError, Msg: "internal error", Err: err}
		}
		routeName := name
		if routeName == "" {
			routeName = route(r)
		}
		switch {
		case he.Reported:
		case he.Code >= 500:
			log.Error("request failed", "method", r.Method, "route", routeName, "status", he.Code, "err", err)
		case he.Err != nil:
			log.Debug("request rejected", "method", r.Method, "route", routeName, "status", he.Code, "err", he.Err)
		}
		WriteJSON(w, he.Code, map[string]string{"error": he.Msg})
	})
}

// route names the matched route by its template (/api/consent/{id}), or
// the name of a route matched without one, never by the request's path,
// which may hold a visitor's consent id or token.
func route(r *http.Request) string {
	if cur := mux.CurrentRoute(r); cur != nil {
		if tpl, err := cur.GetPathTemplate(); err == nil {
			return tpl
		}
		if name := cur.GetName(); name != "" {
			return name
		}
	}
	return "(no route)"
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	// A write error means the client went away; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// RouteVar returns a route variable; every handler reads them through here so
// the router stays replaceable.
func RouteVar(r *http.Request, name string) string {
	return mux.Vars(r)[name]
}

// DecodeJSON reads a JSON body of at most max bytes into v: 413 when it is
// larger, 400 when it is not JSON of v's shape.
func DecodeJSON(r *http.Request, max int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		return Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", max)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Code: http.StatusBadRequest, Msg: "malformed JSON", Err: err}
	}
	return nil
}
