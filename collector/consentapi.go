package collector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/consent"
	"github.com/footfall/footfall/collector/subject"
	"github.com/footfall/footfall/config"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

const maxConsentBody = 4 << 10

// decisionBody is what POST /api/consent takes.
type decisionBody struct {
	Site           string          `json:"site"`
	Action         string          `json:"action"` // grant (default), update, withdraw
	Categories     map[string]bool `json:"categories"`
	PolicyVersion  uint32          `json:"policy_version"`
	Language       string          `json:"language"`
	BannerHash     string          `json:"banner_hash"`
	ConsentID      string          `json:"consent_id"`
	Token          string          `json:"token"`
	SnippetVersion string          `json:"snippet_version"`
	// Signal is what carried the decision (store.ConsentSignals): the
	// banner, an opt-out link, the page's script or a consent platform the
	// snippet follows. The ledger keeps it; a body without one is recorded
	// as "unstated".
	Signal string `json:"signal"`
	// GPC is navigator.globalPrivacyControl, which some browsers set
	// without sending Sec-GPC: it counts as the header does.
	GPC bool `json:"gpc"`
}

// grantResponse answers a grant or update.
type grantResponse struct {
	ConsentID     uuid.UUID           `json:"consent_id"`
	Token         string              `json:"token"`
	Expires       time.Time           `json:"expires"`
	Action        store.ConsentAction `json:"action"`
	Categories    map[string]bool     `json:"categories"`
	PolicyVersion uint32              `json:"policy_version"`
}

// HandleConsent is POST /api/consent: a visitor's decision is appended to
// the ledger and answered with a signed token (grant, update), or the
// consent is withdrawn and its raw events erased (withdraw, with a receipt).
func (c *Collector) HandleConsent(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	if err := checkContentType(r); err != nil {
		return err
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxConsentBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return httpapi.Errorf(http.StatusRequestEntityTooLarge, "body over %d bytes", maxConsentBody)
		}
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "could not read body", Err: err}
	}
	var body decisionBody
	if err := json.Unmarshal(raw, &body); err != nil {
		return malformed(err)
	}
	if err := checkDecision(&body); err != nil {
		return err
	}
	domain := strings.ToLower(strings.TrimSpace(body.Site))
	site, ok, err := c.sites.Lookup(r.Context(), domain)
	if err != nil {
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
	}
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "unknown site %q", domain)
	}
	rules := c.siteRules(site.Domain)
	if body.PolicyVersion != 0 && body.PolicyVersion != rules.Consent.PolicyVersion {
		return httpapi.Errorf(http.StatusConflict, "policy version %d is current, not %d: show the current banner", rules.Consent.PolicyVersion, body.PolicyVersion)
	}
	if c.limiter != nil {
		// Every decision is kept for years: one client must not flood the
		// ledger (and skew the consent statistics). Bad input, refused
		// above, does not count.
		if ok, wait := c.limiter.allow(c.enrich.ClientIP(r.RemoteAddr, r.Header), c.now()); !ok {
			c.metrics.limited.Inc()
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			return httpapi.Errorf(http.StatusTooManyRequests, "too many consent decisions from this client: retry in %d s", secs)
		}
	}
	now := c.now().UTC().Truncate(time.Second)
	rec := store.ConsentRecord{
		SiteID:         site.ID,
		Time:           now,
		PolicyVersion:  rules.Consent.PolicyVersion,
		Language:       body.Language,
		BannerHash:     body.BannerHash,
		GPC:            r.Header.Get("Sec-GPC") == "1" || body.GPC,
		DNT:            r.Header.Get("DNT") == "1",
		SnippetVersion: body.SnippetVersion,
		Signal:         store.ConsentSignal(body.Signal),
	}
	if rec.Signal == "" {
		rec.Signal = store.SignalUnstated
	}
	if rec.Language == "" {
		rec.Language = "en"
	}
	if rec.BannerHash == "" {
		if text, ok := rules.Consent.Banner[rec.Language]; ok {
			rec.BannerHash = text.Hash()
		}
	}

	if body.Action == "withdraw" {
		id, err := c.owner(body.ConsentID, body.Token, site.ID, true)
		if err != nil {
			return err
		}
		rec.ConsentID, rec.Action = id, store.ConsentWithdraw
		receipt, err := c.withdraw(r, rec)
		if err != nil {
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, receipt)
		return nil
	}

	requested, err := store.ParseCategories(body.Categories)
	if err != nil {
		return httpapi.Errorf(http.StatusBadRequest, "field \"categories\": %v", err)
	}
	rec.ConsentID = uuid.New()
	if body.Action == "update" {
		if rec.ConsentID, err = c.owner(body.ConsentID, body.Token, site.ID, false); err != nil {
			return err
		}
		if err := c.checkNotWithdrawn(r.Context(), rec.ConsentID); err != nil {
			return err
		}
	}
	gpc := privacySignal(r, rules) || body.GPC && rules.Consent.GPC == "deny_marketing"
	rec.Granted, rec.Action = consent.Decide(requested, store.ConsentAll, gpc)
	if err := c.chain.Append(&rec, func(rec *store.ConsentRecord) error { return c.ledger.AppendConsent(r.Context(), *rec) }); err != nil {
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not record the decision, retry later", Err: err}
	}
	c.metrics.consents.WithLabelValues(string(rec.Action)).Inc()
	if body.Action == "update" {
		// From now on this consent id's older tokens grant at most this
		// decision: here at once, on other replicas once they read it. If
		// it cannot be written, the visitor retries (a new decision).
		change := store.ConsentChange{ConsentID: rec.ConsentID, Time: rec.Time, Granted: rec.Granted}
		c.consent.Note(change)
		if err := c.ledger.AppendConsentUpdate(r.Context(), site.ID, change); err != nil {
			return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not record the decision, retry later", Err: err}
		}
	}
	claims := consent.Claims{
		ConsentID: rec.ConsentID, SiteID: site.ID, Categories: rec.Granted, PolicyVersion: rec.PolicyVersion,
		Issued: now, Expires: now.Add(policyOf(rules).MaxAge), GPC: gpc,
	}
	token, err := c.consent.Keyring().Sign(claims)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, grantResponse{
		ConsentID: rec.ConsentID, Token: token, Expires: claims.Expires, Action: rec.Action,
		Categories: rec.Granted.Map(), PolicyVersion: rec.PolicyVersion,
	})
	return nil
}

// signalNames lists the signals a decision may state, for error messages.
var signalNames = func() string {
	names := make([]string, len(store.ConsentSignals))
	for i, s := range store.ConsentSignals {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}()

func checkDecision(b *decisionBody) error {
	switch {
	case b.Site == "":
		return missing("site")
	case b.Action != "" && b.Action != "grant" && b.Action != "update" && b.Action != "withdraw":
		return httpapi.Errorf(http.StatusBadRequest, "field \"action\": want grant, update or withdraw")
	case b.Action != "withdraw" && b.Categories == nil:
		return missing("categories")
	case b.Action == "update" || b.Action == "withdraw":
		if b.ConsentID == "" {
			return missing("consent_id")
		}
		if b.Token == "" {
			return missing("token")
		}
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"site", b.Site, maxSiteLen}, {"language", b.Language, 16}, {"banner_hash", b.BannerHash, 64},
		{"consent_id", b.ConsentID, 36}, {"token", b.Token, maxTokenLen}, {"snippet_version", b.SnippetVersion, 32},
	} {
		if len(f.value) > f.max {
			return tooLong(f.name, f.max)
		}
	}
	if b.Signal != "" && !slices.Contains(store.ConsentSignals, store.ConsentSignal(b.Signal)) {
		return httpapi.Errorf(http.StatusBadRequest, "field \"signal\": want one of %s", signalNames)
	}
	for _, r := range b.Language {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return httpapi.Errorf(http.StatusBadRequest, "field \"language\": want a language tag such as en or de-CH")
		}
	}
	for _, r := range b.BannerHash {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return httpapi.Errorf(http.StatusBadRequest, "field \"banner_hash\": want lower-case hex")
		}
	}
	return nil
}

// owner checks that token proves ownership of the consent id (a valid
// signature over that id and site; expiry does not matter: a visitor may
// always withdraw or see their data) and returns the id. With retired, a
// token of a retired key proves it too: retiring a key must not lock
// visitors out of seeing, erasing or withdrawing; it never lets a token
// collect or be renewed.
func (c *Collector) owner(rawID, token string, siteID uint32, retired bool) (uuid.UUID, error) {
	claims, err := c.ownerClaims(rawID, token, siteID, retired)
	return claims.ConsentID, err
}

func (c *Collector) ownerClaims(rawID, token string, siteID uint32, retired bool) (consent.Claims, error) {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return consent.Claims{}, httpapi.Errorf(http.StatusBadRequest, "consent id: want a UUID")
	}
	verify := c.consent.Keyring().Verify
	if retired {
		verify = c.consent.Keyring().VerifyOwnership
	}
	claims, err := verify(token)
	if err != nil || claims.ConsentID != id || siteID != 0 && claims.SiteID != siteID {
		return consent.Claims{}, &httpapi.Error{Code: http.StatusForbidden, Msg: "the token does not belong to this consent", Err: err}
	}
	return claims, nil
}

// checkNotWithdrawn refuses an update of a withdrawn consent. It asks the
// ledger, not memory: the withdrawal may have been taken by another replica
// a moment ago, or be older than the heads this one keeps.
func (c *Collector) checkNotWithdrawn(ctx context.Context, id uuid.UUID) error {
	if c.consent.Revoked(id) {
		return errWithdrawn
	}
	recs, err := c.ledger.ConsentHistory(ctx, id)
	if err != nil {
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
	}
	for _, rec := range recs {
		if rec.Action == store.ConsentWithdraw {
			return errWithdrawn
		}
	}
	return nil
}

var errWithdrawn = httpapi.Errorf(http.StatusGone, "consent was withdrawn: make a new decision without consent_id")

// withdraw records the withdrawal, stops collection for the consent id here
// at once, and has its raw events erased. The ledger record is the durable
// erasure request: once it is written, the erasure happens whether or not
// the client waits for the answer.
func (c *Collector) withdraw(r *http.Request, rec store.ConsentRecord) (store.Receipt, error) {
	if err := c.chain.Append(&rec, func(rec *store.ConsentRecord) error { return c.ledger.AppendConsent(r.Context(), *rec) }); err != nil {
		return store.Receipt{}, &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "could not record the withdrawal, retry later", Err: err}
	}
	c.metrics.consents.WithLabelValues(string(rec.Action)).Inc()
	c.consent.Note(store.ConsentChange{ConsentID: rec.ConsentID, Time: rec.Time, Withdrawn: true})
	return c.subjects.Withdrawn(r.Context(), rec.ConsentID, rec.Time, subject.VisitorWait), nil
}

// bearer reads the visitor's token from Authorization: Bearer. Never from
// the query string: URLs end up in proxy and server logs.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	return ""
}

// visitor authenticates a request to a visitor's own endpoints (state,
// data, erasure): the token in Authorization must belong to the consent id
// in the path, under any key, retired ones included. The answer may be
// read only by pages of the consent's own site (CORS).
func (c *Collector) visitor(w http.ResponseWriter, r *http.Request) (uuid.UUID, error) {
	claims, err := c.ownerClaims(httpapi.RouteVar(r, "id"), bearer(r), 0, true)
	if err != nil {
		return uuid.Nil, err
	}
	if site, ok := c.sites.ByID(claims.SiteID); ok {
		allowSiteOrigin(w, r, site.Domain)
	}
	return claims.ConsentID, nil
}

// stateResponse is a visitor's view of their consent.
type stateResponse struct {
	ConsentID     uuid.UUID       `json:"consent_id"`
	SiteID        uint32          `json:"site_id"`
	Categories    map[string]bool `json:"categories"`
	PolicyVersion uint32          `json:"policy_version"`
	Withdrawn     bool            `json:"withdrawn"`
	History       []historyItem   `json:"history"`
}

type historyItem struct {
	Time          time.Time           `json:"time"`
	Action        store.ConsentAction `json:"action"`
	Categories    map[string]bool     `json:"categories"`
	PolicyVersion uint32              `json:"policy_version"`
	Language      string              `json:"language"`
	BannerHash    string              `json:"banner_hash"`
	GPC           bool                `json:"gpc"`
	DNT           bool                `json:"dnt"`
	Signal        store.ConsentSignal `json:"signal,omitempty"`
}

// HandleConsentState is GET /api/consent/{id}: the decision history of the
// visitor's consent id, authenticated by their token.
func (c *Collector) HandleConsentState(w http.ResponseWriter, r *http.Request) error {
	id, err := c.visitor(w, r)
	if err != nil {
		return err
	}
	recs, err := c.ledger.ConsentHistory(r.Context(), id)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return httpapi.Errorf(http.StatusNotFound, "no decision recorded for this consent id")
	}
	last := recs[len(recs)-1]
	out := stateResponse{ConsentID: id, SiteID: last.SiteID, PolicyVersion: last.PolicyVersion, Categories: last.Granted.Map()}
	for _, rec := range recs {
		if rec.Action == store.ConsentWithdraw {
			out.Withdrawn = true
			out.Categories = store.Categories(0).Map()
		}
		out.History = append(out.History, historyItem{
			Time: rec.Time, Action: rec.Action, Categories: rec.Granted.Map(), PolicyVersion: rec.PolicyVersion,
			Language: rec.Language, BannerHash: rec.BannerHash, GPC: rec.GPC, DNT: rec.DNT, Signal: rec.Signal,
		})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// HandleConsentData is GET /api/consent/{id}/data: every raw event the
// visitor's consent allowed, as JSON (store.Access).
func (c *Collector) HandleConsentData(w http.ResponseWriter, r *http.Request) error {
	id, err := c.visitor(w, r)
	if err != nil {
		return err
	}
	sub := store.Subject{ConsentID: id}
	out, err := c.subjects.Access(r.Context(), sub, sub.Label(""))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// HandleConsentErase is DELETE /api/consent/{id}/data: erase the visitor's
// raw events and keep their consent (and its ledger records).
func (c *Collector) HandleConsentErase(w http.ResponseWriter, r *http.Request) error {
	id, err := c.visitor(w, r)
	if err != nil {
		return err
	}
	sub := store.Subject{ConsentID: id}
	receipt, err := c.subjects.Erase(r.Context(), sub, sub.Label(""), subject.VisitorWait)
	if err != nil {
		return err
	}
	receipt.Withdrawn = c.consent.Revoked(id)
	receipt.ConsentRecord = "kept: the consent itself still applies to future visits"
	httpapi.WriteJSON(w, http.StatusOK, receipt)
	return nil
}

// policyResponse is what the banner needs to ask for consent.
type policyResponse struct {
	Site          string                       `json:"site"`
	PolicyVersion uint32                       `json:"policy_version"`
	MaxAgeDays    int                          `json:"max_age_days"`
	Categories    []string                     `json:"categories"`
	Texts         map[string]config.BannerText `json:"texts"`
	BannerHashes  map[string]string            `json:"banner_hashes"`
	// History lists the policy versions with the date each took effect,
	// oldest first: the notice that the statement changed.
	History []store.PolicyVersion `json:"history"`
	// Exempt: visitors without a decision are counted without consent
	// (no cookie, no IP); the tracker then sends events without a token.
	Exempt bool `json:"exempt"`
	// Lang is the one language of Texts and BannerHashes.
	Lang string `json:"lang"`
	// GoogleConsentMode: the banner emits Google Consent Mode v2 signals.
	GoogleConsentMode bool `json:"google_consent_mode,omitempty"`
}

// HandlePolicy is GET /api/consent/policy?site=DOMAIN[&lang=xx]: the site's
// current policy version and the banner text in one language (see
// policyLanguage), gzip-compressed when accepted.
func (c *Collector) HandlePolicy(w http.ResponseWriter, r *http.Request) error {
	setCORS(w)
	domain := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("site")))
	if domain == "" {
		return missing("site")
	}
	site, ok, err := c.sites.Lookup(r.Context(), domain)
	if err != nil {
		return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
	}
	if !ok {
		return httpapi.Errorf(http.StatusNotFound, "unknown site %q", domain)
	}
	rules := c.siteRules(site.Domain)
	banner := rules.Consent.Banner
	lang := policyLanguage(r, func(l string) bool { _, ok := banner[l]; return ok }, slices.Collect(maps.Keys(banner)))
	out := policyResponse{
		Site: site.Domain, PolicyVersion: rules.Consent.PolicyVersion, MaxAgeDays: rules.Consent.MaxAgeDays,
		Categories: store.ConsentAll.Names(), Texts: map[string]config.BannerText{}, BannerHashes: map[string]string{},
		History: c.policies[site.ID], Exempt: rules.Exempt, Lang: lang, GoogleConsentMode: rules.Consent.GoogleConsentMode,
	}
	if out.History == nil {
		out.History = []store.PolicyVersion{}
	}
	if t, ok := banner[lang]; ok {
		out.Texts[lang], out.BannerHashes[lang] = t, t.Hash()
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Add("Vary", "Accept-Language")
	return httpapi.WriteJSONGzip(w, r, out)
}

// EraseLearnt has the raw events of consents withdrawn on another replica
// erased again, once this one has learnt of them: this replica may have
// written some before it knew (what it still holds is dropped, the consent
// being revoked). The erasure loop records each request before it erases,
// so it is done even if this replica stops first. With it, a withdrawal
// erases every replica's events within -consent-refresh.
func (c *Collector) EraseLearnt(_ context.Context, ids []uuid.UUID) error {
	c.erasures.Again(ids, c.now())
	return nil
}

// allowSiteOrigin lets a page of the site (its domain or a subdomain, over
// http or https) read the answer; any other origin gets no CORS header, so
// a browser keeps the visitor's data from it.
func allowSiteOrigin(w http.ResponseWriter, r *http.Request, domain string) bool {
	origin := r.Header.Get("Origin")
	u, err := url.Parse(origin)
	if origin == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || !firstParty(u.Hostname(), domain) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Add("Vary", "Origin")
	return true
}

// HandleVisitorPreflight answers CORS preflights for a visitor's own
// endpoints (state, data, erasure): only the origins of registered sites
// may send them. Which site a consent belongs to shows only with the token,
// in the request itself, which allows just that site's origin.
func (c *Collector) HandleVisitorPreflight(w http.ResponseWriter, r *http.Request) error {
	if u, err := url.Parse(r.Header.Get("Origin")); err == nil && u.Hostname() != "" {
		host := strings.ToLower(u.Hostname())
		for _, domain := range []string{host, strings.TrimPrefix(host, "www.")} {
			site, ok, err := c.sites.Lookup(r.Context(), domain)
			if err != nil {
				return &httpapi.Error{Code: http.StatusServiceUnavailable, Msg: "store unavailable, retry later", Err: err}
			}
			if ok && allowSiteOrigin(w, r, site.Domain) {
				break
			}
		}
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, DELETE, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
