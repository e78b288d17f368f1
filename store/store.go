// Package store is Footfall's model: every type that is persisted or crosses
// packages (the raw event row, sites, consent categories and ledger records,
// signing keys, daily salts, rollups) and the errors callers branch on. It
// imports nothing else of Footfall; TestImportDirection keeps it so. The backends live in
// store/clickhouse and store/sqlite; the interfaces they satisfy are declared
// by their consumers (collector, cmd/footfall, store/storetest).
package store

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

var (
	// ErrNotFound is returned when a looked-up row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSiteExists is returned by AddSite for a domain that is already registered.
	ErrSiteExists = errors.New("site already exists")
)

// EventType is what a raw event records.
type EventType string

// The event types; their names are part of the public event body.
const (
	Pageview   EventType = "pageview"
	Click      EventType = "click"
	Custom     EventType = "event"
	Engagement EventType = "engagement"
	EmailOpen  EventType = "email_open"
	EmailClick EventType = "email_click"
)

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	switch t {
	case Pageview, Click, Custom, Engagement, EmailOpen, EmailClick:
		return true
	}
	return false
}

// Site is a website whose events Footfall accepts.
type Site struct {
	ID        uint32
	Domain    string
	CreatedAt time.Time
}

// Prop is one entry of an event's small flat property map.
type Prop struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Event is one raw event row as stored. Fields a visitor's consent does not
// cover are left at their zero value by the collector before storage; the
// store keeps whatever it is given.
//
// Its JSON (snake_case, the column names) is the one shape in which a raw
// event leaves Footfall: a visitor's GET /api/consent/{id}/data, the admin
// API's access and footfall access (docs/openapi.yaml, RawEvent). Empty
// fields are left out; the 64-bit keys are strings, which JavaScript reads
// without rounding.
type Event struct {
	ID         uuid.UUID `json:"id"` // unique per event; replays of the same event are stored once
	SiteID     uint32    `json:"site_id"`
	Type       EventType `json:"type"`
	Time       time.Time `json:"time"`        // when the event happened, UTC, second precision
	ReceivedAt time.Time `json:"received_at"` // when the collector accepted it; late data is found by this

	Host  string `json:"host"`            // page host
	Path  string `json:"path"`            // page path, no query, no fragment (unless hash routing)
	Query string `json:"query,omitempty"` // only the query parameters the site allows, canonical order

	Referrer     string `json:"referrer,omitempty"` // cleaned referrer URL
	ReferrerHost string `json:"referrer_host,omitempty"`
	Source       string `json:"source,omitempty"` // referrer source class: search, social, email, ai, internal, direct, other

	UTMSource   string `json:"utm_source,omitempty"`
	UTMMedium   string `json:"utm_medium,omitempty"`
	UTMCampaign string `json:"utm_campaign,omitempty"`
	UTMTerm     string `json:"utm_term,omitempty"`
	UTMContent  string `json:"utm_content,omitempty"`
	ClickID     string `json:"click_id,omitempty"` // gclid, fbclid, msclkid, …: marketing consent only

	IP      string `json:"ip,omitempty"`       // raw client IP: analytics consent only, its own shorter retention
	IPTrunc string `json:"ip_trunc,omitempty"` // IPv4 /24 or IPv6 /48

	VisitorKey uint64 `json:"visitor_key,string"` // keyed hash under a daily salt, or derived from the consent id with personalization
	KeyVersion uint8  `json:"key_version"`        // which visitor-key algorithm produced VisitorKey
	SessionID  uint64 `json:"session_id,string"`
	UserID     string `json:"user_id,omitempty"` // signed-in user: personalization consent only

	ConsentID     uuid.UUID  `json:"consent_id,omitzero"`  // the consent that allowed this event (uuid.Nil if none)
	Consent       Categories `json:"consented_categories"` // granted categories
	PolicyVersion string     `json:"policy_version,omitempty"`
	GPC           bool       `json:"gpc,omitempty"` // Sec-GPC (or DNT, per config): excluded from partner aggregates

	Browser        string `json:"browser,omitempty"`
	BrowserVersion string `json:"browser_version,omitempty"`
	OS             string `json:"os,omitempty"`
	OSVersion      string `json:"os_version,omitempty"`
	Device         string `json:"device,omitempty"` // desktop, mobile, tablet, or empty
	ScreenWidth    uint16 `json:"screen_width,omitempty"`
	Language       string `json:"language,omitempty"` // the browser language's primary subtag, lower case ("de")

	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	Region  string `json:"region,omitempty"`
	City    string `json:"city,omitempty"`
	ASN     uint32 `json:"asn,omitempty"`
	ISP     string `json:"isp,omitempty"`

	Name   string `json:"name,omitempty"`   // custom event name, or click label
	Target string `json:"target,omitempty"` // click target (outbound URL, file, element)
	Props  []Prop `json:"props,omitempty"`

	EngagedMS uint32 `json:"engaged_ms,omitempty"` // visible time on page
	// ScrollDepth is what an engagement event reports of its page view:
	// the deepest the visitor scrolled so far, as the % of the page's
	// height seen (1 to 100); 0 is none reported.
	ScrollDepth uint8 `json:"scroll_depth,omitempty"`

	// Revenue of a custom event or click (a purchase): an amount in an
	// ISO 4217 currency, both set or neither (revenue.go).
	RevenueAmount   Amount `json:"revenue_amount,omitzero"`
	RevenueCurrency string `json:"revenue_currency,omitempty"`

	Bot       bool   `json:"bot,omitempty"`
	BotReason string `json:"bot_reason,omitempty"`
}

// EventQuery selects raw events of one site in [From, To) by event time.
type EventQuery struct {
	SiteID uint32
	From   time.Time
	To     time.Time
}

// Dimension is what PageviewCounts groups by.
type Dimension string

// The dimensions PageviewCounts accepts.
const (
	ByDay          Dimension = "day"
	ByPath         Dimension = "path"
	ByReferrerHost Dimension = "referrer_host"
)

// CountQuery asks for pageview counts of one site in [From, To) grouped by one dimension.
type CountQuery struct {
	SiteID uint32
	From   time.Time
	To     time.Time
	By     Dimension
}

// Count is one group of a CountQuery. Key is the group's value; days are
// formatted as 2006-01-02 (UTC) and come in date order, other groups by
// pageviews descending, then key.
type Count struct {
	Key       string
	Pageviews uint64
}

// Migration is one applied schema migration.
type Migration struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// PolicyVersion is a consent policy version of a site and when it took
// effect (when a server first ran with it): the notice visitors and
// analysts see when the privacy statement changes.
type PolicyVersion struct {
	SiteID  uint32    `json:"-"`
	Version uint32    `json:"version"`
	Since   time.Time `json:"since"`
}
