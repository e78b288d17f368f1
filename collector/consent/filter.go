package consent

import (
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// fieldGroup is a group of store.Event fields that one consent rule covers.
type fieldGroup uint8

const (
	pageFields fieldGroup = iota
	referrerFields
	ipFields
	userAgentFields
	networkFields
	visitFields
	interactionFields
	proofFields
	userFields
	campaignFields
	clickIDFields
)

// fieldRules is Filter's rule table: a group of fields is kept only when the
// effective categories hold all of needs. An event is stored only with
// analytics, so every group needs it. Every field of store.Event is in
// exactly one group (see fieldGroup.clear), except those an event is never
// without (ID, SiteID, Type, Time, ReceivedAt) and the consent signals Filter
// sets itself (Consent, GPC).
var fieldRules = [...]struct {
	group fieldGroup
	needs store.Categories
}{
	{pageFields, store.ConsentAnalytics},
	{referrerFields, store.ConsentAnalytics},
	{ipFields, store.ConsentAnalytics},
	{userAgentFields, store.ConsentAnalytics},
	{networkFields, store.ConsentAnalytics},
	{visitFields, store.ConsentAnalytics},
	{interactionFields, store.ConsentAnalytics},
	{proofFields, store.ConsentAnalytics},
	{userFields, store.ConsentAnalytics | store.ConsentPersonalization},
	// UTM tags name the traffic source (a campaign, not a person): they
	// are analytics, like the referrer. Ad click ids identify one click
	// in an ad network's records: marketing.
	{campaignFields, store.ConsentAnalytics},
	{clickIDFields, store.ConsentAnalytics | store.ConsentMarketing},
}

// clear zeroes the fields of group g. It is a switch rather than a function
// per table row so that e does not escape: Filter must not move a caller's
// event to the heap.
func (g fieldGroup) clear(e *store.Event) {
	switch g {
	case pageFields:
		e.Host, e.Path, e.Query = "", "", ""
	case referrerFields:
		e.Referrer, e.ReferrerHost, e.Source = "", "", ""
	case ipFields:
		e.IP, e.IPTrunc = "", ""
	case userAgentFields:
		e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device, e.ScreenWidth, e.Language = "", "", "", "", "", 0, ""
	case networkFields: // geo, ASN and ISP
		e.Country, e.Region, e.City, e.ASN, e.ISP = "", "", "", 0, ""
	case visitFields:
		e.VisitorKey, e.KeyVersion, e.SessionID = 0, 0, 0
	case interactionFields:
		e.Name, e.Target, e.Props, e.EngagedMS = "", "", nil, 0
	case proofFields: // what proves and qualifies a stored event
		e.ConsentID, e.PolicyVersion, e.Bot, e.BotReason = uuid.Nil, "", false, ""
	case userFields: // the signed-in user
		e.UserID = ""
	case campaignFields: // utm_*
		e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMTerm, e.UTMContent = "", "", "", "", ""
	case clickIDFields: // gclid, fbclid, msclkid, …
		e.ClickID = ""
	default:
		panic("consent: unknown field group")
	}
}

// Effective returns the categories in force for a grant: granted, less
// marketing under Global Privacy Control.
func Effective(granted store.Categories, gpc bool) store.Categories {
	granted &= store.ConsentAll
	if gpc {
		granted &^= store.ConsentMarketing
	}
	return granted
}

// Filter strips from e every field the granted categories do not cover
// (PRODUCT.md, "Consent model"), records the effective categories in
// e.Consent and, for gpc, sets e.GPC; with gpc false, e.GPC is left as is.
// Without analytics the event must not be stored at all; Filter then leaves
// only ID, SiteID, Type, Time, ReceivedAt and the consent signals.
func Filter(e *store.Event, granted store.Categories, gpc bool) {
	eff := Effective(granted, gpc)
	for _, r := range fieldRules {
		if !eff.Has(r.needs) {
			r.group.clear(e)
		}
	}
	e.Consent = eff
	if gpc {
		e.GPC = true
	}
}
