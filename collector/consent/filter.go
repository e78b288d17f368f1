package consent

import "github.com/footfall/footfall/store"

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
//
// Analytics covers every field of an event (so a new field or dimension
// is covered without a list to extend; the consent category of each
// dimension in store.Dimensions is held to this by the tests): without it
// the event must not be stored at all, and Filter leaves only ID, SiteID,
// Type, Time, ReceivedAt and the consent signals. Two fields need more:
// the signed-in user id, personalization; an ad click id, which identifies
// one click in an ad network's records, marketing. UTM tags name the
// traffic source (a campaign, not a person): analytics, like the referrer.
func Filter(e *store.Event, granted store.Categories, gpc bool) {
	eff := Effective(granted, gpc)
	if !eff.Has(store.ConsentAnalytics) {
		*e = store.Event{ID: e.ID, SiteID: e.SiteID, Type: e.Type, Time: e.Time, ReceivedAt: e.ReceivedAt, GPC: e.GPC}
	}
	if !eff.Has(store.ConsentPersonalization) {
		e.UserID = ""
	}
	if !eff.Has(store.ConsentMarketing) {
		e.ClickID = ""
	}
	e.Consent = eff
	if gpc {
		e.GPC = true
	}
}
