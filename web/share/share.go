// Package share serves share links: read-only views of one site's
// anonymised release, for people without a Footfall account. An admin
// creates, lists and revokes links (/api/v1/admin/shares); anyone holding
// a link opens its page (/share/{link}), which reads the release from
// /api/share/v1/{link}.
//
// What a link shows is never raw-derived: it is aggregator.NewRelease's
// release for the site (config sites[].share: cells under k visitors folded
// or suppressed, identifier-like values folded, GPC visitors left out,
// Laplace noise when configured), made once per window through
// aggregator.Releaser and then served as stored, so that viewing a window
// again, from any link of the site, returns the same numbers and costs no
// privacy budget. A viewer chooses among calendar weeks and months only,
// which bounds how many windows, and so how much epsilon, a month can take.
//
// A link reads ffs_<id>_<secret>. The id is public (the admin API lists and
// revokes by it); the secret is 256 random bits, stored as its SHA-256 and
// compared in constant time. A password, when set, is stored as an argon2id
// hash, checked in constant time and rate limited per link and per client;
// a right one gives the page a view key (an HMAC under the password's hash,
// valid 12 hours) that it sends with each request, so no cookie is needed,
// also inside another site's iframe. Neither the link, the password nor the
// key is ever logged.
package share

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/footfall/footfall/aggregator"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Store is what share links read and change.
type Store interface {
	aggregator.ReleaseStore
	Sites(ctx context.Context) ([]store.Site, error)
	AddShareLink(ctx context.Context, l store.ShareLink) error
	ShareLink(ctx context.Context, id string) (store.ShareLink, error)
	ShareLinks(ctx context.Context) ([]store.ShareLink, error)
	RevokeShareLink(ctx context.Context, id string, at time.Time) error
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

// Options are what share links need.
type Options struct {
	Store Store
	// Config gives each site's share settings and time zone; nil is an
	// empty config (the defaults).
	Config *config.Config
	// PublicURL is the base of the links the admin API answers with
	// (serve's -public-url), never the request's Host header.
	PublicURL string
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client whose password attempts are counted.
	TrustedProxies []netip.Prefix
	// Noise is the releases' DP mechanism; default Laplace.
	Noise aggregator.Noise
	// Log gets audit failures; nil discards them.
	Log *slog.Logger
	// Metrics registers footfall_share_* counters; nil keeps them
	// unregistered.
	Metrics prometheus.Registerer
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Handler serves the share link endpoints.
type Handler struct {
	opts     Options
	releases *aggregator.Releaser
	page     *page
	limits   *attempts

	mu     sync.Mutex
	viewed map[string]time.Time // link id: when its last view was audited

	unlockFailures prometheus.Counter
}

// New returns the share links' handler.
func New(opts Options) (*Handler, error) {
	if opts.Config == nil {
		opts.Config = &config.Config{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	opts.PublicURL = strings.TrimSuffix(opts.PublicURL, "/")
	p, err := newPage()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		opts: opts, releases: aggregator.NewReleaser(opts.Store), page: p, limits: newAttempts(),
		viewed: map[string]time.Time{},
		unlockFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "footfall_share_unlock_failures_total",
			Help: "Wrong or refused (rate-limited) passwords for share links.",
		}),
	}
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(h.unlockFailures); err != nil {
			return nil, fmt.Errorf("share metrics: %w", err)
		}
	}
	return h, nil
}

// Params are the query parameters each API route of share links accepts
// ("METHOD path"); the handlers refuse any other with a 400.
// web/reports/openapi_test.go holds docs/openapi.yaml to them.
var Params = map[string][]string{
	"GET /api/v1/admin/shares":         {"site"},
	"POST /api/v1/admin/shares":        nil,
	"DELETE /api/v1/admin/shares/{id}": nil,
	"GET /api/share/v1/{link}":         {"period", "date"},
	"POST /api/share/v1/{link}/unlock": nil,
}

// noQuery refuses a request with query parameters, for routes that take none.
func noQuery(r *http.Request) error {
	if r.URL.RawQuery != "" {
		return httpapi.Errorf(http.StatusBadRequest, "this route takes no query parameters")
	}
	return nil
}

// A link reads ffs_<id>_<secret>: 16 hex digits, then 32 random bytes in
// lower-case base32 (52 characters).
const (
	linkPrefix    = "ffs_"
	linkIDLen     = 16
	linkSecretLen = 52
	linkLen       = len(linkPrefix) + linkIDLen + 1 + linkSecretLen
)

var (
	linkEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	linkID       = regexp.MustCompile(`^[0-9a-f]{16}$`)
	linkSecret   = regexp.MustCompile(`^[a-z2-7]{52}$`)
)

// newLink makes a link's id, its secret's hash and the link to show once.
func newLink() (id, secretHash, link string, err error) {
	var raw [8 + 32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", "", fmt.Errorf("new share link: %w", err)
	}
	id = hex.EncodeToString(raw[:8])
	secret := linkEncoding.EncodeToString(raw[8:])
	sum := sha256.Sum256([]byte(secret))
	return id, hex.EncodeToString(sum[:]), linkPrefix + id + "_" + secret, nil
}

// parseLink splits a link into its id and secret, checking its shape before
// anything is looked up.
func parseLink(s string) (id, secret string, ok bool) {
	if len(s) != linkLen || !strings.HasPrefix(s, linkPrefix) || s[len(linkPrefix)+linkIDLen] != '_' {
		return "", "", false
	}
	id, secret = s[len(linkPrefix):len(linkPrefix)+linkIDLen], s[len(linkPrefix)+linkIDLen+1:]
	if !linkID.MatchString(id) || !linkSecret.MatchString(secret) {
		return "", "", false
	}
	return id, secret, true
}

var (
	errNoLink  = httpapi.Errorf(http.StatusNotFound, "no such share link")
	errRevoked = httpapi.Errorf(http.StatusGone, "this share link was revoked")
	errExpired = httpapi.Errorf(http.StatusGone, "this share link has expired")
)

// link resolves the {link} route variable: a malformed or unknown link, or
// a wrong secret, is a 404; a revoked or expired one a 410.
func (h *Handler) link(r *http.Request) (store.ShareLink, error) {
	id, secret, ok := parseLink(httpapi.RouteVar(r, "link"))
	if !ok {
		return store.ShareLink{}, errNoLink
	}
	l, err := h.opts.Store.ShareLink(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.ShareLink{}, errNoLink
	}
	if err != nil {
		return store.ShareLink{}, err
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(l.SecretHash)) != 1 {
		return store.ShareLink{}, errNoLink
	}
	switch {
	case l.Revoked():
		return store.ShareLink{}, errRevoked
	case l.Expired(h.opts.Now()):
		return store.ShareLink{}, errExpired
	}
	return l, nil
}

// site returns the domain of a site id.
func (h *Handler) site(ctx context.Context, id uint32) (store.Site, error) {
	sites, err := h.opts.Store.Sites(ctx)
	if err != nil {
		return store.Site{}, err
	}
	for _, s := range sites {
		if s.ID == id {
			return s, nil
		}
	}
	return store.Site{}, fmt.Errorf("site %d: %w", id, store.ErrNotFound)
}

// keyLifetime is how long a view key from a right password lasts.
const keyLifetime = 12 * time.Hour

// viewKey is the key a right password gives for link l until exp:
// exp.HMAC-SHA256(password hash, id and exp). Only the server, which holds
// the hash, can make one; revoking the link ends them all.
func viewKey(l store.ShareLink, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, []byte(l.PasswordHash))
	m.Write([]byte("footfall share view\x00" + l.ID + "\x00" + e))
	return e + "." + hex.EncodeToString(m.Sum(nil))
}

// keyValid reports whether key is a view key of l that has not expired.
func keyValid(l store.ShareLink, key string, now time.Time) bool {
	e, _, ok := strings.Cut(key, ".")
	sec, err := strconv.ParseInt(e, 10, 64)
	if !ok || err != nil || !now.Before(time.Unix(sec, 0)) || time.Unix(sec, 0).After(now.Add(keyLifetime)) {
		return false
	}
	return hmac.Equal([]byte(viewKey(l, time.Unix(sec, 0))), []byte(key))
}

// audit records an action on a link. A view is recorded at most hourly per
// link and process; its failure is logged, not returned, so that the audit
// log never takes a shared dashboard down.
func (h *Handler) audit(ctx context.Context, actor, action string, l store.ShareLink, detail string) error {
	return h.opts.Store.AppendAudit(ctx, store.AuditEntry{
		Time: h.opts.Now().UTC().Truncate(time.Second), Actor: actor, Action: action, Target: "share:" + l.ID, Detail: detail,
	})
}

// viewEvery is how often a link's views are recorded in the audit log.
const viewEvery = time.Hour

func (h *Handler) auditView(ctx context.Context, l store.ShareLink, window string) {
	now := h.opts.Now()
	h.mu.Lock()
	if last, ok := h.viewed[l.ID]; ok && now.Sub(last) < viewEvery {
		h.mu.Unlock()
		return
	}
	if len(h.viewed) >= maxTracked {
		clear(h.viewed)
	}
	h.viewed[l.ID] = now
	h.mu.Unlock()
	detail, err := json.Marshal(map[string]string{"window": window})
	if err == nil {
		err = h.audit(ctx, "share:"+l.ID, "share_view", l, string(detail))
	}
	if err != nil {
		h.opts.Log.Warn("audit share view", "link", l.ID, "err", err)
	}
}
