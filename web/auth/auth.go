// Package auth decides who may read Footfall's reports and what they may
// read.
//
// Two kinds of principal exist. Users sign in to the dashboard with an
// e-mail address and a password (stored as an argon2id hash) and get a
// session cookie; API clients send an API token as Authorization: Bearer.
// Both have a role — admin, analyst or partner — and a site scope (every
// site, or a list). Admins may do what analysts may; partners are separate
// and reach only partner endpoints.
//
// Handlers are wrapped in Require, which answers 401 to the unauthenticated
// and 403 to a wrong role, and hands the handler the Principal (FromRequest).
// A handler that serves one site checks Principal.CanSite.
//
// Requests authenticated by the session cookie that change state (any
// method but GET, HEAD and OPTIONS) must also carry the session's CSRF
// token, returned at login and by GET /api/v1/me, in an X-CSRF-Token header
// or a csrf form field. Bearer-token requests are exempt: a browser never
// adds that header by itself.
//
// Repeated failed logins lock further attempts, per account and client
// address and per client address; see Options.
//
// Nothing here logs a password, a token, a session id or an IP address.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// Role is what a principal may do.
type Role string

// The roles. Their names are stored and typed in commands.
const (
	RoleAdmin   Role = "admin"   // everything an analyst may, and administration
	RoleAnalyst Role = "analyst" // reports on the sites in scope
	RolePartner Role = "partner" // a partner's anonymised aggregates only
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAnalyst, RolePartner}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("want admin, analyst or partner, got %q", s)
	}
	return r, nil
}

// grants reports whether a principal with role r may use an endpoint open
// to role want: every role grants itself, and admin grants analyst.
func (r Role) grants(want Role) bool {
	return r == want || r == RoleAdmin && want == RoleAnalyst
}

// Kind says how a principal authenticated.
type Kind string

// The kinds of principal.
const (
	KindUser  Kind = "user"  // a signed-in user, by session cookie
	KindToken Kind = "token" // an API token, by Authorization: Bearer
)

// Principal is who made a request.
type Principal struct {
	Kind    Kind
	ID      string // the user's or the token's id
	Name    string // the user's e-mail address, or the token's label
	Role    Role
	Partner string   // the partner's name, for role partner
	Sites   []uint32 // the sites in scope; nil is every site
}

// CanSite reports whether the principal may read the site with that id.
func (p Principal) CanSite(siteID uint32) bool {
	return p.Sites == nil || slices.Contains(p.Sites, siteID)
}

// HasRole reports whether the principal may use an endpoint open to any of
// roles (admin may use analyst endpoints).
func (p Principal) HasRole(roles ...Role) bool {
	for _, want := range roles {
		if p.Role.grants(want) {
			return true
		}
	}
	return false
}

// Store is what Auth reads and writes: the users, tokens and sessions of
// both store backends.
type Store interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
	UserByID(ctx context.Context, id string) (store.User, error)
	TOTPByUser(ctx context.Context, userID string) (store.TOTP, error)
	TokenByID(ctx context.Context, id string) (store.Token, error)
	TouchToken(ctx context.Context, id string, at time.Time) error
	AddSession(ctx context.Context, s store.Session) error
	SessionByID(ctx context.Context, id string) (store.Session, error)
	ExtendSession(ctx context.Context, id string, expires time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteSessionsBefore(ctx context.Context, createdBefore time.Time) error
}

// Auditor keeps the audit log of administrative actions.
type Auditor interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

// Options are what an Auth needs. Only Store is required.
type Options struct {
	Store Store
	// Audit receives logins, failed logins, lockouts and logouts; nil
	// records nothing.
	Audit Auditor
	// TrustedProxies are the reverse proxies whose forwarding headers are
	// believed (serve's -trusted-proxies): X-Forwarded-For and friends for
	// the client address the lockout counts, and X-Forwarded-Proto: https
	// for marking the session cookie Secure. From any other peer only a TLS
	// connection makes the cookie Secure.
	TrustedProxies []netip.Prefix

	// SessionIdle ends a session unused for this long; default 14 days.
	SessionIdle time.Duration
	// SessionMaxAge ends every session this long after login however much
	// it is used; default 30 days.
	SessionMaxAge time.Duration

	// Lockout. After LockAfter failed logins for one account from one
	// client address (default 5), or LockAfterIP from one client address
	// (default 20), further logins of that account from that address, or
	// of any account from that address, are refused with 429 for LockBase
	// (default 1 minute), doubling with each further failure up to LockMax
	// (default 1 hour). The client address is an IPv6 client's /64, and
	// behind a proxy in TrustedProxies the address it forwards: so one
	// guesser locks out itself, not the account's owner elsewhere. An
	// attempt counts as a failure from the moment it starts (concurrent
	// attempts count as many); a successful login takes its own attempt
	// back and clears the count of its account from its address. Failures
	// are forgotten a day after the last one (or after 2×LockMax if
	// longer). Each table remembers at most LockEntries keys (default
	// 10,000); when full it forgets the oldest.
	LockAfter   int
	LockAfterIP int
	LockBase    time.Duration
	LockMax     time.Duration
	LockEntries int

	Log *slog.Logger
	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.SessionIdle <= 0 {
		o.SessionIdle = 14 * 24 * time.Hour
	}
	if o.SessionMaxAge <= 0 {
		o.SessionMaxAge = 30 * 24 * time.Hour
	}
	if o.LockAfter <= 0 {
		o.LockAfter = 5
	}
	if o.LockAfterIP <= 0 {
		o.LockAfterIP = 20
	}
	if o.LockBase <= 0 {
		o.LockBase = time.Minute
	}
	if o.LockMax < o.LockBase {
		o.LockMax = max(time.Hour, o.LockBase)
	}
	if o.LockEntries <= 0 {
		o.LockEntries = 10_000
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Auth authenticates requests and signs users in and out. It is safe for
// concurrent use.
type Auth struct {
	opts  Options
	store Store
	log   *slog.Logger
	// lockMu makes checking both lockouts and counting an attempt in them
	// one step (see reserve).
	lockMu   sync.Mutex
	accounts *lockout // by e-mail address and client address
	addrs    *lockout // by client address
	// hashing bounds the argon2 computations running at once: each takes
	// 19 MiB, and a burst of logins must not take the server's memory.
	hashing chan struct{}
	// dummyHash is verified against when no user has the address given,
	// so that a login takes as long whether or not the account exists.
	dummyHash func() string
	totpUsed  usedCodes
	// lastPrune is when old sessions were last deleted (Unix seconds).
	lastPrune atomic.Int64
}

// New returns an Auth over opts.Store.
func New(opts Options) *Auth {
	opts = opts.withDefaults()
	forget := max(24*time.Hour, 2*opts.LockMax)
	return &Auth{
		opts:      opts,
		store:     opts.Store,
		log:       opts.Log,
		accounts:  newLockout(opts.LockAfter, opts.LockBase, opts.LockMax, forget, opts.LockEntries),
		addrs:     newLockout(opts.LockAfterIP, opts.LockBase, opts.LockMax, forget, opts.LockEntries),
		hashing:   make(chan struct{}, runtime.GOMAXPROCS(0)),
		dummyHash: sync.OnceValue(dummyHash),
		totpUsed:  usedCodes{last: map[string]int64{}},
	}
}

func dummyHash() string {
	h, err := HashPassword(GeneratePassword())
	if err != nil {
		panic(fmt.Sprintf("auth: hash a random password: %v", err)) // only a broken crypto/rand fails
	}
	return h
}

// The answers to unauthenticated and unauthorised requests. They say no
// more than that: not whether a token exists or a session expired.
var (
	errUnauthenticated = &httpapi.Error{Code: http.StatusUnauthorized, Msg: "authentication required"}
	errForbidden       = &httpapi.Error{Code: http.StatusForbidden, Msg: "forbidden"}
	errCSRF            = &httpapi.Error{Code: http.StatusForbidden, Msg: "missing or wrong CSRF token"}
)

// ErrUnauthenticated is what Authenticate returns for a request without
// valid credentials.
var ErrUnauthenticated = errors.New("not authenticated")

// requestAuth is what a request authenticated with: the principal and, for
// a session, its CSRF token.
type requestAuth struct {
	principal Principal
	csrf      string // "" for a bearer token
}

type contextKey struct{}

// FromRequest returns the principal of a request that passed Require.
func FromRequest(r *http.Request) (Principal, bool) {
	ra, ok := r.Context().Value(contextKey{}).(requestAuth)
	return ra.principal, ok
}

// Require returns a middleware that lets a request through only if it is
// authenticated (401 otherwise) with one of roles (403 otherwise; no roles
// means any role), and, when authenticated by the session cookie and not
// a GET, HEAD or OPTIONS, carries the session's CSRF token (403 otherwise).
// The handler reads the principal with FromRequest.
func (a *Auth) Require(roles ...Role) func(httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(next httpapi.HandlerFunc) httpapi.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			ra, err := a.authenticate(r)
			if errors.Is(err, ErrUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="footfall"`)
				return errUnauthenticated
			}
			if err != nil {
				return err
			}
			if len(roles) > 0 && !ra.principal.HasRole(roles...) {
				return errForbidden
			}
			if ra.csrf != "" && !safeMethod(r.Method) && !csrfMatches(r, ra.csrf) {
				return errCSRF
			}
			return next(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, ra)))
		}
	}
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// Authenticate returns the principal a request authenticates as, or an
// error wrapping ErrUnauthenticated. A request with an Authorization header
// is judged by it alone; otherwise by the session cookie. It does not check
// CSRF tokens: Require does.
func (a *Auth) Authenticate(r *http.Request) (Principal, error) {
	ra, err := a.authenticate(r)
	return ra.principal, err
}

func (a *Auth) authenticate(r *http.Request) (requestAuth, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		p, err := a.bearer(r.Context(), h)
		return requestAuth{principal: p}, err
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return a.session(r.Context(), c.Value)
	}
	return requestAuth{}, ErrUnauthenticated
}

// bearer authenticates an Authorization header carrying an API token.
func (a *Auth) bearer(ctx context.Context, header string) (Principal, error) {
	scheme, cred, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, fmt.Errorf("%w: not a bearer token", ErrUnauthenticated)
	}
	id, secret, ok := parseToken(strings.TrimSpace(cred))
	if !ok {
		return Principal{}, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	t, err := a.store.TokenByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, err
	}
	if !secretMatches(t.SecretHash, secret) {
		return Principal{}, fmt.Errorf("%w: wrong secret", ErrUnauthenticated)
	}
	if t.Revoked() {
		return Principal{}, fmt.Errorf("%w: revoked token", ErrUnauthenticated)
	}
	if now := a.opts.Now(); now.Sub(t.LastUsed) >= touchEvery {
		if err := a.store.TouchToken(ctx, t.ID, now); err != nil {
			a.log.Warn("record token use", "token_id", t.ID, "err", err)
		}
	}
	return Principal{Kind: KindToken, ID: t.ID, Name: t.Name, Role: Role(t.Role), Partner: t.Partner, Sites: t.Sites}, nil
}

// touchEvery is how stale a token's last use may get before it is
// recorded again: at most one write per token per hour.
const touchEvery = time.Hour

// secretMatches compares the SHA-256 of secret with a stored hex hash in
// constant time.
func secretMatches(storedHex, secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(storedHex)) == 1
}
