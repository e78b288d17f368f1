package share

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
	"github.com/footfall/footfall/web/auth"
)

//go:embed assets/share.html assets/share.js assets/share.css
var assets embed.FS

// AssetPrefix is the URL path under which the page's script and style
// sheet are served.
const AssetPrefix = "/share/assets/"

// page is the share page and its assets, built once.
type page struct {
	html   []byte
	assets map[string]asset // by URL path
}

type asset struct {
	body        []byte
	contentType string
}

func newPage() (*page, error) {
	p := &page{assets: map[string]asset{}}
	add := func(name, contentType string) (string, error) {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return "", fmt.Errorf("share page: %w", err)
		}
		sum := sha256.Sum256(b)
		base, ext, _ := strings.Cut(name, ".")
		path := AssetPrefix + base + "." + hex.EncodeToString(sum[:6]) + "." + ext
		p.assets[path] = asset{body: b, contentType: contentType}
		return path, nil
	}
	js, err := add("share.js", "text/javascript; charset=utf-8")
	if err != nil {
		return nil, err
	}
	css, err := add("share.css", "text/css; charset=utf-8")
	if err != nil {
		return nil, err
	}
	src, err := assets.ReadFile("assets/share.html")
	if err != nil {
		return nil, fmt.Errorf("share page: %w", err)
	}
	tmpl, err := template.New("share.html").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("share page: %w", err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct{ Script, Style string }{js, css}); err != nil {
		return nil, fmt.Errorf("share page: %w", err)
	}
	p.html = buf.Bytes()
	return p, nil
}

// AssetPaths are the URL paths HandleAsset serves.
func (h *Handler) AssetPaths() []string {
	out := make([]string, 0, len(h.page.assets))
	for p := range h.page.assets {
		out = append(out, p)
	}
	return out
}

// HandleAsset serves the page's script or style sheet, cached for a year
// under its content-hashed path.
func (h *Handler) HandleAsset(w http.ResponseWriter, r *http.Request) error {
	a, ok := h.page.assets[r.URL.Path]
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "no such file")
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(a.body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body) // a write error means the client went away
	}
	return nil
}

// csp is the share page's Content-Security-Policy: this origin's script,
// style and API only, framed by frameAncestors.
func csp(frameAncestors string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action 'none'; base-uri 'none'; frame-ancestors " + frameAncestors
}

// setPageHeaders sets the headers of everything a link answers: never
// cached, never indexed, never sending the link on as a Referer, and
// framed only as the link allows (an embed link by its origins, any other
// by none).
func setPageHeaders(w http.ResponseWriter, l store.ShareLink) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	hd.Set("X-Content-Type-Options", "nosniff")
	if l.Embed && len(l.FrameAncestors) > 0 {
		hd.Set("Content-Security-Policy", csp(strings.Join(l.FrameAncestors, " ")))
		hd.Del("X-Frame-Options")
		return
	}
	hd.Set("Content-Security-Policy", csp("'none'"))
	hd.Set("X-Frame-Options", "DENY")
}

// HandlePage is GET /share/{link}: the read-only dashboard. The page is
// the same for every link; its script reads the link from the address and
// the figures from HandleData.
func (h *Handler) HandlePage(w http.ResponseWriter, r *http.Request) error {
	setPageHeaders(w, store.ShareLink{})
	l, err := h.link(r)
	var he *httpapi.Error
	if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusGone) {
		// A person opened it: a page that says so, with the API's status.
		var buf bytes.Buffer
		if err := errorPage.Execute(&buf, he.Msg); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(he.Code)
		_, _ = w.Write(buf.Bytes()) // a write error means the client went away
		return nil
	}
	if err != nil {
		return err
	}
	setPageHeaders(w, l)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(h.page.html)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(h.page.html) // a write error means the client went away
	}
	return nil
}

// errorPage is what a person opening a dead link sees (no script, no style:
// the page's CSP allows none inline).
var errorPage = template.Must(template.New("gone").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Shared statistics</title></head>
<body><h1>Shared statistics</h1><p id="gone">{{.}}.</p>
<p>Ask whoever gave you the link for a new one.</p></body></html>
`))

// KeyHeader carries a view key from HandleUnlock on every request of a
// link with a password.
const KeyHeader = "X-Share-Key"

var errPassword = httpapi.Errorf(http.StatusUnauthorized, "password required")

// HandleUnlock is POST /api/share/v1/{link}/unlock {"password": …}: a view
// key for a link with a password.
func (h *Handler) HandleUnlock(w http.ResponseWriter, r *http.Request) error {
	setPageHeaders(w, store.ShareLink{})
	l, err := h.link(r)
	if err != nil {
		return err
	}
	if err := noQuery(r); err != nil {
		return err
	}
	if l.PasswordHash == "" {
		return httpapi.Errorf(http.StatusBadRequest, "this share link has no password")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<10))
	if err != nil {
		return httpapi.Errorf(http.StatusRequestEntityTooLarge, "body over 4 KiB")
	}
	var b struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Password == "" {
		return httpapi.Errorf(http.StatusBadRequest, `want {"password": "…"}`)
	}
	now := h.opts.Now()
	client := httpapi.ClientPrefix(httpapi.ClientIP(r.RemoteAddr, r.Header, h.opts.TrustedProxies)).String()
	for _, c := range []struct {
		key string
		l   limit
	}{{"client\x00" + l.ID + "\x00" + client, clientLimit}, {"link\x00" + l.ID, linkLimit}} {
		if ok, wait := h.limits.take(c.key, c.l, now); !ok {
			h.unlockFailures.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(int(max(wait.Round(time.Second), time.Second)/time.Second)))
			return &httpapi.Error{Code: http.StatusTooManyRequests, Msg: "too many password attempts; wait and try again", Reported: true}
		}
	}
	ok, err := auth.VerifyPassword(l.PasswordHash, b.Password) // constant time
	if err != nil {
		return fmt.Errorf("share link password: %w", err)
	}
	if !ok {
		h.unlockFailures.Inc()
		return &httpapi.Error{Code: http.StatusUnauthorized, Msg: "wrong password", Reported: true}
	}
	exp := now.Add(keyLifetime).Truncate(time.Second)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"key": viewKey(l, exp), "expires": exp.UTC()})
	return nil
}

// maxLookback is how far back a viewer may go (the raw events' retention
// bounds it further).
const maxLookback = 400 * 24 * time.Hour

type window struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// windowOf is the week or month holding day.
func windowOf(period string, day time.Time) (from, to time.Time) {
	if period == "month" {
		from = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		return from, from.AddDate(0, 1, -1)
	}
	from = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	return from, from.AddDate(0, 0, 6)
}

// HandleData is GET /api/share/v1/{link}?period=week|month&date=YYYY-MM-DD:
// the site's anonymised release of the week or month holding date (default:
// the last finished one), as stored when first asked for.
func (h *Handler) HandleData(w http.ResponseWriter, r *http.Request) error {
	setPageHeaders(w, store.ShareLink{})
	l, err := h.link(r)
	if err != nil {
		return err
	}
	now := h.opts.Now()
	if l.PasswordHash != "" && !keyValid(l, r.Header.Get(KeyHeader), now) {
		return errPassword
	}
	q := r.URL.Query()
	for k, v := range q {
		if (k != "period" && k != "date") || len(v) != 1 {
			return httpapi.Errorf(http.StatusBadRequest, "unknown or repeated parameter %q; want period and date", k)
		}
	}
	site, err := h.site(r.Context(), l.SiteID)
	if err != nil {
		return err
	}
	loc, err := store.LoadZone(h.opts.Config.SiteZone(site.Domain))
	if err != nil {
		return err
	}
	y, m, d := now.In(loc).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	period := q.Get("period")
	if period == "" {
		period = "week"
	}
	if period != "week" && period != "month" {
		return httpapi.Errorf(http.StatusBadRequest, "period: want week or month")
	}
	var from, to time.Time
	if v := q.Get("date"); v != "" {
		day, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return httpapi.Errorf(http.StatusBadRequest, "date: want YYYY-MM-DD")
		}
		if from, to = windowOf(period, day); !to.Before(today) {
			return httpapi.Errorf(http.StatusBadRequest, "date: the %s of %s is not over yet; only finished weeks and months are shared", period, v)
		}
		if today.Sub(from) > maxLookback {
			return httpapi.Errorf(http.StatusBadRequest, "date: at most 400 days back")
		}
	} else {
		from, _ = windowOf(period, today)
		from, to = windowOf(period, from.AddDate(0, 0, -1))
	}
	rel, err := h.releases.Serve(r.Context(), aggregator.ReleaseRequest{
		Partner: h.opts.Config.ShareRelease(site.Domain), From: from, To: to,
		Zone: h.opts.Config.SiteZone, Noise: h.opts.Noise, Now: h.opts.Now,
	})
	var spent *aggregator.BudgetError
	if errors.As(err, &spent) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(spent.Next.Sub(now), time.Second)/time.Second)))
		return &httpapi.Error{Code: http.StatusTooManyRequests, Msg: spent.Error()}
	}
	if err != nil {
		return fmt.Errorf("share release: %w", err)
	}
	h.auditView(r.Context(), l, rel.From+".."+rel.To)
	prevFrom, prevTo := windowOf(period, from.AddDate(0, 0, -1))
	out := map[string]any{
		"site": site.Domain, "name": l.Name, "period": period, "from": rel.From, "to": rel.To,
		"generated_at": rel.GeneratedAt, "k": rel.Params.K, "noise": rel.Params.Noise, "epsilon": rel.Params.Epsilon,
		"metrics": rel.Params.Metrics, "tables": tables(rel),
	}
	if today.Sub(prevFrom) <= maxLookback {
		out["previous"] = window{prevFrom.Format(time.DateOnly), prevTo.Format(time.DateOnly)}
	}
	if nextFrom, nextTo := windowOf(period, to.AddDate(0, 0, 1)); nextTo.Before(today) {
		out["next"] = window{nextFrom.Format(time.DateOnly), nextTo.Format(time.DateOnly)}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// tables are a release's tables as the page reads them: per dimension,
// rows of day, value and the metrics by name.
func tables(rel *aggregator.Release) []map[string]any {
	out := make([]map[string]any, 0, len(rel.Tables))
	for _, t := range rel.Tables {
		rows := make([]map[string]any, 0, len(t.Rows))
		for _, row := range t.Rows {
			obj := map[string]any{"day": row.Day, "value": row.Value}
			for i, m := range rel.Params.Metrics {
				obj[m] = row.Metrics[i]
			}
			rows = append(rows, obj)
		}
		out = append(out, map[string]any{"dimension": t.Dimension, "rows": rows})
	}
	return out
}
