package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// CookieName is the name of the session cookie.
const CookieName = "footfall_session"

// A session's secret is 32 random bytes, sent as the cookie's value in
// unpadded base64url. The store keys the session by the secret's SHA-256;
// the CSRF token is another hash of the secret, so it needs no storage and
// reveals nothing of the cookie.
const sessionSecretLen = 32

var cookieEncoding = base64.RawURLEncoding

func decodeSecret(value string) ([]byte, bool) {
	b, err := cookieEncoding.DecodeString(value)
	if err != nil || len(b) != sessionSecretLen {
		return nil, false
	}
	return b, true
}

func sessionID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:])
}

func csrfToken(secret []byte) string {
	sum := sha256.Sum256(append([]byte("footfall csrf\x00"), secret...))
	return cookieEncoding.EncodeToString(sum[:])
}

// extendStep is how far a session's expiry must move before it is written:
// an active session costs at most one write an hour.
const extendStep = time.Hour

// session authenticates the value of a session cookie.
func (a *Auth) session(ctx context.Context, value string) (requestAuth, error) {
	secret, ok := decodeSecret(value)
	if !ok {
		return requestAuth{}, fmt.Errorf("%w: malformed session cookie", ErrUnauthenticated)
	}
	sess, err := a.store.SessionByID(ctx, sessionID(secret))
	if errors.Is(err, store.ErrNotFound) {
		return requestAuth{}, fmt.Errorf("%w: no such session", ErrUnauthenticated)
	}
	if err != nil {
		return requestAuth{}, err
	}
	now := a.opts.Now()
	if !now.Before(sess.ExpiresAt) {
		return requestAuth{}, fmt.Errorf("%w: session expired", ErrUnauthenticated)
	}
	u, err := a.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return requestAuth{}, fmt.Errorf("%w: the session's user is gone", ErrUnauthenticated)
	}
	if err != nil {
		return requestAuth{}, err
	}
	if exp := a.expiry(sess.CreatedAt, now); exp.Sub(sess.ExpiresAt) >= extendStep {
		if err := a.store.ExtendSession(ctx, sess.ID, exp); err != nil {
			a.log.Warn("extend session", "user_id", u.ID, "err", err)
		}
	}
	return requestAuth{principal: userPrincipal(u), csrf: csrfToken(secret)}, nil
}

// expiry is when a session created at created and used at now ends.
func (a *Auth) expiry(created, now time.Time) time.Time {
	idle, end := now.Add(a.opts.SessionIdle), created.Add(a.opts.SessionMaxAge)
	if idle.Before(end) {
		return idle
	}
	return end
}

func userPrincipal(u store.User) Principal {
	return Principal{Kind: KindUser, ID: u.ID, Name: u.Email, Role: Role(u.Role), Partner: u.Partner, Sites: u.Sites}
}

// csrfMatches reports whether a request carries the CSRF token want, in the
// X-CSRF-Token header or, for a form post, the csrf field.
func csrfMatches(r *http.Request, want string) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" && isForm(r) {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBody)
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func isForm(r *http.Request) bool {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && ct == "application/x-www-form-urlencoded"
}

// maxFormBody bounds the login form and a form read for its csrf field.
const maxFormBody = 16 << 10

// The answers of the login and logout endpoints.
type loginAnswer struct {
	OK      bool      `json:"ok"`
	CSRF    string    `json:"csrf"`
	Role    Role      `json:"role"`
	Expires time.Time `json:"expires"`
}

type okAnswer struct {
	OK bool `json:"ok"`
}

var (
	errBadLogin     = &httpapi.Error{Code: http.StatusUnauthorized, Msg: "wrong e-mail address or password"}
	errTOTPRequired = &httpapi.Error{Code: http.StatusUnauthorized, Msg: "two-factor code required"}
	errBadTOTP      = &httpapi.Error{Code: http.StatusUnauthorized, Msg: "wrong two-factor code"}
)

// HandleLogin is POST /login: form fields email and password, code for a
// user with a second factor (the authenticator app's current code), and
// optionally next, a local path to redirect to. On success it sets the
// session cookie and answers {"ok": true, "csrf": …, "role": …, "expires":
// …}, or 303 to next. A wrong address or password is a 401 either way,
// and so are a missing ("two-factor code required") or wrong code; a
// locked account or address a 429 with Retry-After; a post from a page of
// another origin a 403 (see sameOrigin).
func (a *Auth) HandleLogin(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if !sameOrigin(r) {
		return errCrossOriginLogin
	}
	if !isForm(r) {
		return httpapi.Errorf(http.StatusUnsupportedMediaType, "want a form (application/x-www-form-urlencoded) with email and password")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "unreadable form", Err: err}
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	next := r.PostForm.Get("next")
	switch {
	case email == "" || password == "":
		return httpapi.Errorf(http.StatusBadRequest, "want form fields email and password")
	case len(email) > 254 || len(password) > MaxPasswordLen:
		return httpapi.Errorf(http.StatusBadRequest, "e-mail address or password too long")
	case next != "" && !localPath(next):
		return httpapi.Errorf(http.StatusBadRequest, "next: want a path on this server")
	}

	now := a.opts.Now()
	addr := a.clientKey(r)
	acct := email + "\x00" + addr
	if wait := a.reserve(acct, addr, now); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		a.log.Info("login refused: locked after repeated failures")
		a.audit(r.Context(), "", "login_locked", "")
		return httpapi.Errorf(http.StatusTooManyRequests, "too many failed logins; try again later")
	}
	defer a.judged(acct, addr)
	u, err := a.store.UserByEmail(r.Context(), email)
	hash := u.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = a.dummyHash()
	} else if err != nil {
		return err
	}
	ok, err := a.verify(r.Context(), hash, password)
	if err != nil {
		return fmt.Errorf("login of user %s: %w", u.ID, err)
	}
	if !ok || u.ID == "" {
		a.log.Info("login failed", "user_id", u.ID)
		a.audit(r.Context(), "", "login_failed", u.ID)
		return errBadLogin // the failure reserved above stands
	}
	factor, err := a.store.TOTPByUser(r.Context(), u.ID)
	switch {
	case errors.Is(err, store.ErrNotFound): // no second factor
	case err != nil:
		return err
	case r.PostForm.Get("code") == "":
		// The right password without the code: the form asks for the
		// code next. Not a failure, so it is not counted.
		a.accounts.undo(acct)
		a.addrs.undo(addr)
		return errTOTPRequired
	case !a.checkTOTP(factor, r.PostForm.Get("code"), now):
		a.log.Info("login failed: wrong two-factor code", "user_id", u.ID)
		a.audit(r.Context(), "", "login_failed_totp", u.ID)
		return errBadTOTP // counted, like a wrong password
	}
	a.accounts.reset(acct)
	a.addrs.undo(addr)

	var secret [sessionSecretLen]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return fmt.Errorf("new session: %w", err)
	}
	created := now.UTC().Truncate(time.Second)
	sess := store.Session{ID: sessionID(secret[:]), UserID: u.ID, CreatedAt: created, ExpiresAt: a.expiry(created, created)}
	if err := a.store.AddSession(r.Context(), sess); err != nil {
		return err
	}
	a.pruneSessions(r.Context(), now)
	a.log.Info("login", "user_id", u.ID)
	a.audit(r.Context(), "user:"+u.ID, "login", u.ID)

	http.SetCookie(w, a.cookie(r, cookieEncoding.EncodeToString(secret[:]), int(a.opts.SessionMaxAge.Seconds())))
	if next != "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	httpapi.WriteJSON(w, http.StatusOK, loginAnswer{OK: true, CSRF: csrfToken(secret[:]), Role: Role(u.Role), Expires: sess.ExpiresAt})
	return nil
}

// reserve counts a login attempt as a failure of its account (from its
// address) and of its address before the password is checked, unless one
// of them is locked: then it counts nothing and returns how long the lock
// lasts. Counting first is what makes N attempts sent at once count as N:
// checked first and counted after the slow hash, they would all pass the
// check. A success takes the reservation back, and forgets the account's
// earlier failures but not those of attempts still in flight (lockout.reset).
func (a *Auth) reserve(acct, addr string, now time.Time) time.Duration {
	a.lockMu.Lock()
	defer a.lockMu.Unlock()
	if wait := max(a.accounts.wait(acct, now), a.addrs.wait(addr, now)); wait > 0 {
		return wait
	}
	a.accounts.start(acct, now)
	a.addrs.start(addr, now)
	return 0
}

// judged ends an attempt reserve let through.
func (a *Auth) judged(acct, addr string) {
	a.accounts.done(acct)
	a.addrs.done(addr)
}

var errCrossOriginLogin = &httpapi.Error{Code: http.StatusForbidden, Msg: "login from another site refused"}

// sameOrigin reports whether a login request may have come from a page of
// this server. A login has no session yet, so no CSRF token: a page of
// another site could post its own credentials and sign the browser in as
// its attacker (login CSRF). Browsers say where a request comes from in
// Sec-Fetch-Site, and in Origin on every POST; a request with neither is
// not a browser's and needs no protection.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "":
	case "same-origin", "none": // none: the user's own action, such as a bookmark
		return true
	default: // same-site, cross-site
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// verify checks a password, waiting for a hashing slot.
func (a *Auth) verify(ctx context.Context, hash, password string) (bool, error) {
	select {
	case a.hashing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-a.hashing }()
	return VerifyPassword(hash, password)
}

// pruneSessions deletes sessions past their maximum age, at most hourly.
func (a *Auth) pruneSessions(ctx context.Context, now time.Time) {
	last := a.lastPrune.Load()
	if now.Unix()-last < int64(time.Hour/time.Second) || !a.lastPrune.CompareAndSwap(last, now.Unix()) {
		return
	}
	if err := a.store.DeleteSessionsBefore(ctx, now.Add(-a.opts.SessionMaxAge)); err != nil {
		a.log.Warn("delete old sessions", "err", err)
	}
}

// HandleLogout is POST /logout: it ends the session of the cookie (which,
// like every cookie-authenticated change, needs the CSRF token) and clears
// the cookie. Without a live session it only clears the cookie.
func (a *Auth) HandleLogout(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	if c, err := r.Cookie(CookieName); err == nil {
		if secret, ok := decodeSecret(c.Value); ok {
			id := sessionID(secret)
			_, err := a.store.SessionByID(r.Context(), id)
			switch {
			case err == nil:
				if !csrfMatches(r, csrfToken(secret)) {
					return errCSRF
				}
				if err := a.store.DeleteSession(r.Context(), id); err != nil {
					return err
				}
				a.audit(r.Context(), "session", "logout", "")
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
	}
	http.SetCookie(w, a.cookie(r, "", -1))
	httpapi.WriteJSON(w, http.StatusOK, okAnswer{OK: true})
	return nil
}

// meAnswer is GET /api/v1/me.
type meAnswer struct {
	Kind     Kind     `json:"kind"`
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Role     Role     `json:"role"`
	Partner  string   `json:"partner,omitempty"`
	AllSites bool     `json:"all_sites"`
	Sites    []uint32 `json:"sites,omitempty"`
	CSRF     string   `json:"csrf,omitempty"` // for a session: the token its changes need
}

// HandleMe is GET /api/v1/me, behind Require(): who the caller is, their
// role and site scope, and for a session its CSRF token (so a reloaded
// dashboard page can find it again).
func (a *Auth) HandleMe(w http.ResponseWriter, r *http.Request) error {
	ra, ok := r.Context().Value(contextKey{}).(requestAuth)
	if !ok {
		return errUnauthenticated
	}
	p := ra.principal
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, meAnswer{
		Kind: p.Kind, ID: p.ID, Name: p.Name, Role: p.Role, Partner: p.Partner,
		AllSites: p.Sites == nil, Sites: p.Sites, CSRF: ra.csrf,
	})
	return nil
}

// cookie is the session cookie with value; maxAge < 0 deletes it.
func (a *Auth) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.isHTTPS(r), SameSite: http.SameSiteStrictMode,
	}
}

// isHTTPS reports whether the client reached us over https: a TLS
// connection, or a trusted proxy's X-Forwarded-Proto (its first value).
func (a *Auth) isHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https") && a.peerTrusted(r)
}

func (a *Auth) peerTrusted(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer := ap.Addr().Unmap()
	for _, p := range a.opts.TrustedProxies {
		if p.Contains(peer) || peer.Is4() && p.Contains(netip.AddrFrom16(peer.As16())) {
			return true
		}
	}
	return false
}

// clientKey is the lockout key of the request's client: its address, or
// for IPv6 its /64, which one subscriber usually holds whole. It stays in
// memory and is never logged.
func (a *Auth) clientKey(r *http.Request) string {
	ip := httpapi.ClientIP(r.RemoteAddr, r.Header, a.opts.TrustedProxies)
	switch {
	case !ip.IsValid():
		return "unknown"
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// localPath reports whether next is a path on this server, so a redirect
// to it cannot leave the site.
func localPath(next string) bool {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// audit appends an entry to the audit log. A failure is logged, not
// returned: the audit log must not lock administrators out.
func (a *Auth) audit(ctx context.Context, actor, action, target string) {
	if a.opts.Audit == nil {
		return
	}
	if actor == "" {
		actor = "anonymous"
	}
	e := store.AuditEntry{Time: a.opts.Now().UTC().Truncate(time.Second), Actor: actor, Action: action, Target: target, Detail: "{}"}
	if err := a.opts.Audit.AppendAudit(ctx, e); err != nil {
		a.log.Warn("audit log write failed", "action", action, "err", err)
	}
}
