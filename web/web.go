// Package web serves what a visitor's browser loads from Footfall: the
// tracker snippet (f.js), the consent script with the built-in banner, and
// the pixel (p.gif) for pages without JavaScript, whose beacons take the
// collector's event path (collector.Collector.Accept). The other web-facing
// parts live in its subpackages: web/dashboard (the dashboard's page and
// assets), web/reports (the stats and partner APIs), web/auth (sessions,
// tokens, users), web/admin (the admin API: a subject's data through
// collector/subject, newsletter links, the audit log), web/share (share
// links) and web/unsubscribe (the e-mail reports' unsubscribe links).
// server routes them all; server/app builds them.
//
// The scripts' readable sources are in src/; Build minifies them with
// esbuild's Go API when the server starts, so neither building nor running
// Footfall needs Node. See README.md for the snippet and its attributes.
package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/footfall/footfall/collector"
	"github.com/footfall/footfall/httpapi"
)

// Events is the collector's event path, which the pixel's beacons take
// as POST /api/event's do.
type Events interface {
	Accept(r *http.Request, beacons []collector.Beacon) (int, error)
	AcceptBody(r *http.Request, body []byte) (int, error)
}

// Options are what a Handler needs.
type Options struct {
	// Events receives the pixel's beacons; nil answers the pixel but
	// records nothing.
	Events Events
	Log    *slog.Logger
}

// Handler serves the scripts and the pixel.
type Handler struct {
	bundle *Bundle
	files  map[string]file // by URL path
	events Events
	log    *slog.Logger
}

// file is one script as served.
type file struct {
	asset        *Asset
	cacheControl string
}

// Cache lifetimes. A content-hashed URL never changes; f.js is the alias
// that follows releases, so it is cached briefly.
const (
	immutable  = "public, max-age=31536000, immutable"
	aliasCache = "public, max-age=300"
)

// New builds the scripts and returns their handler.
func New(opts Options) (*Handler, error) {
	b, err := Build()
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{bundle: b, events: opts.Events, log: log}
	h.files = map[string]file{
		"/f.js":              {&b.Tracker, aliasCache},
		"/" + b.Tracker.Name: {&b.Tracker, immutable},
		"/" + b.Consent.Name: {&b.Consent, immutable},
	}
	return h, nil
}

// Bundle returns the built scripts: their versioned names, sizes and SRI.
func (h *Handler) Bundle() *Bundle { return h.bundle }

// ScriptPaths are the URL paths HandleScript serves: /f.js, the tracker's
// versioned path and the consent script's.
func (h *Handler) ScriptPaths() []string {
	return []string{"/f.js", "/" + h.bundle.Tracker.Name, "/" + h.bundle.Consent.Name}
}

// HandleScript serves a script: gzip-compressed when the client accepts it,
// with an ETag, CORS open to every origin (a page's crossorigin attribute,
// SRI and the module import of the consent script need it), and long,
// immutable caching for the content-hashed paths.
func (h *Handler) HandleScript(w http.ResponseWriter, r *http.Request) error {
	f, ok := h.files[r.URL.Path]
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "no such script")
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", f.cacheControl)
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	etag := `"` + strings.TrimSuffix(f.asset.Name, ".js") + `"`
	hd.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := f.asset.Body
	if httpapi.AcceptsGzip(r) {
		body = f.asset.Gzip
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // a write error means the client went away
	}
	return nil
}

// gif is a transparent 1x1 GIF.
var gif = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// HandlePixel is GET /p.gif: a beacon as an image request. The tracker's
// last-resort transport sends the event JSON as the parameter e; a page
// without JavaScript or an e-mail sends site=…&url=… (url defaults to the
// Referer, type to pageview), plus referrer, token, name, target, sid, w
// and ms. The beacon goes through the same validation and consent check as
// POST /api/event: without a valid consent token nothing is recorded. The
// answer is always the same transparent GIF, never cached, so an image tag
// shows no error and reveals nothing.
func (h *Handler) HandlePixel(w http.ResponseWriter, r *http.Request) error {
	if h.events != nil {
		h.record(r)
	}
	hd := w.Header()
	hd.Set("Content-Type", "image/gif")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
	hd.Set("Content-Length", strconv.Itoa(len(gif)))
	_, _ = w.Write(gif) // a write error means the client went away
	return nil
}

// pixelBeacon reads the pixel's query form of an event; ok is false when
// it names no site or has a malformed number.
func pixelBeacon(r *http.Request) (b collector.Beacon, ok bool) {
	q := r.URL.Query()
	b = collector.Beacon{
		Site:     q.Get("site"),
		Type:     q.Get("type"),
		URL:      q.Get("url"),
		Referrer: q.Get("referrer"),
		Token:    q.Get("token"),
		Name:     q.Get("name"),
		Target:   q.Get("target"),
		SID:      q.Get("sid"),
	}
	if b.Site == "" {
		return b, false
	}
	if b.Type == "" {
		b.Type = "pageview"
	}
	if b.URL == "" {
		b.URL = r.Referer()
	}
	w, err1 := number(q.Get("w"))
	ms, err2 := number(q.Get("ms"))
	if err1 != nil || err2 != nil {
		return b, false
	}
	b.W, b.MS = int(w), ms
	return b, true
}

// number parses an optional whole-number parameter; the collector checks
// its range.
func number(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 32)
}

// record hands the pixel's event to the collector's event path, from the
// same client (address and headers, Sec-GPC included): the event JSON of
// the parameter e, or the query form. What the collector answers is only
// logged: the pixel's answer is always the GIF.
func (h *Handler) record(r *http.Request) {
	var err error
	if e := r.URL.Query().Get("e"); e != "" {
		if len(e) > collector.MaxBodyBytes || !json.Valid([]byte(e)) {
			return
		}
		_, err = h.events.AcceptBody(r, []byte(e))
	} else if b, ok := pixelBeacon(r); ok {
		_, err = h.events.Accept(r, []collector.Beacon{b})
	}
	if err != nil {
		level := slog.LevelDebug
		var he *httpapi.Error
		if !errors.As(err, &he) || he.Code >= 500 {
			level = slog.LevelWarn
		}
		h.log.Log(r.Context(), level, "pixel event not recorded", "err", err)
	}
}

// SnippetTag returns the <script> tag a site embeds: the versioned tracker
// of the collector at origin (such as "https://stats.example.com") for
// site, pinned with SRI. The versioned URL changes with every release of
// the tracker, and with it the integrity value: print the tag again after
// upgrading, or embed /f.js without integrity to follow releases.
func (h *Handler) SnippetTag(origin, site string) string {
	return SnippetTag(h.bundle, origin, site)
}

// SnippetTag is the tag of b's tracker; see Handler.SnippetTag.
func SnippetTag(b *Bundle, origin, site string) string {
	origin = strings.TrimSuffix(origin, "/")
	return fmt.Sprintf(`<script defer src="%s/%s" integrity="%s" crossorigin="anonymous" data-site="%s"></script>`,
		html.EscapeString(origin), b.Tracker.Name, b.Tracker.SRI, html.EscapeString(site))
}
