// Package dashboard serves the analysts' dashboard: one HTML page, a script
// and a style sheet, embedded in the binary. The page reads everything it
// shows from the reports API (/api/v1/…) with the session cookie of
// POST /login, so this package holds no data access of its own.
//
// The readable sources are in assets/; New minifies the script and the
// style sheet with esbuild's Go API and serves them under content-hashed
// names, cached for a year. The page itself is never cached and carries a
// strict Content-Security-Policy: scripts and styles from this origin only,
// no inline code, connections to this origin only.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/evanw/esbuild/pkg/api"

	"github.com/footfall/footfall/httpapi"
)

//go:embed assets/index.html assets/dashboard.js assets/dashboard.css
var assets embed.FS

// AssetPrefix is the URL path under which the script and style sheet are
// served.
const AssetPrefix = "/dashboard/"

// CSP is the dashboard page's Content-Security-Policy.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the dashboard page and its assets.
type Handler struct {
	page   []byte
	etag   string
	assets map[string]asset // by URL path
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New builds the dashboard's assets and returns their handler.
func New() (*Handler, error) {
	read := func(name string) (string, error) {
		b, err := assets.ReadFile("assets/" + name)
		return string(b), err
	}
	js, err1 := read("dashboard.js")
	css, err2 := read("dashboard.css")
	page, err3 := read("index.html")
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("read dashboard sources: %w", err)
	}
	js, err := minify("dashboard.js", js, api.LoaderJS)
	if err != nil {
		return nil, err
	}
	css, err = minify("dashboard.css", css, api.LoaderCSS)
	if err != nil {
		return nil, err
	}
	h := &Handler{assets: map[string]asset{}}
	jsPath := h.add("dashboard", ".js", "text/javascript; charset=utf-8", js)
	cssPath := h.add("dashboard", ".css", "text/css; charset=utf-8", css)

	tmpl, err := template.New("index.html").Parse(page)
	if err != nil {
		return nil, fmt.Errorf("parse dashboard page: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct{ Script, Style string }{jsPath, cssPath}); err != nil {
		return nil, fmt.Errorf("render dashboard page: %w", err)
	}
	h.page = buf.Bytes()
	h.etag = `"` + hash(h.page) + `"`
	return h, nil
}

// add registers a built asset under a content-hashed path and returns it.
func (h *Handler) add(base, ext, contentType, body string) string {
	sum := hash([]byte(body))
	path := AssetPrefix + base + "." + sum + ext
	h.assets[path] = asset{body: []byte(body), contentType: contentType, etag: `"` + sum + `"`}
	return path
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}

func minify(name, code string, loader api.Loader) (string, error) {
	res := api.Transform(code, api.TransformOptions{
		Loader:            loader,
		Sourcefile:        name,
		Target:            api.ES2020,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		Charset:           api.CharsetUTF8,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return "", fmt.Errorf("build %s: %s", name, strings.Join(msgs, "\n"))
	}
	return string(res.Code), nil
}

// AssetPaths are the URL paths HandleAsset serves.
func (h *Handler) AssetPaths() []string {
	out := make([]string, 0, len(h.assets))
	for p := range h.assets {
		out = append(out, p)
	}
	return out
}

// HandlePage is GET /: the dashboard's HTML. Whether the visitor is signed
// in is the script's question (GET /api/v1/me), so the page is the same
// for everyone and shows a login form to the signed out.
func (h *Handler) HandlePage(w http.ResponseWriter, r *http.Request) error {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("ETag", h.etag)
	if strings.Contains(r.Header.Get("If-None-Match"), h.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hd.Set("Content-Length", strconv.Itoa(len(h.page)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.page) // a write error means the client went away
	}
	return nil
}

// HandleAsset serves the dashboard's script or style sheet by its
// content-hashed path, cached for a year.
func (h *Handler) HandleAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := h.assets[r.URL.Path]
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "no such file")
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", a.etag)
	if strings.Contains(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body) // a write error means the client went away
	}
	return nil
}
