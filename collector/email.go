package collector

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/collector/enrich"
	"github.com/footfall/footfall/collector/links"
	"github.com/footfall/footfall/httpapi"
	"github.com/footfall/footfall/store"
)

// transparentGIF is a 1×1 transparent GIF.
var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// HandleEmailClick is GET /r/{token}: a tracked newsletter link. A valid
// token redirects (302) to its signed target and, under the subscriber's
// marketing consent, records the click. Anything else is a 400 with no
// Location header: never an open redirect.
func (c *Collector) HandleEmailClick(w http.ResponseWriter, r *http.Request) error {
	l, err := c.consent.Links().Verify(httpapi.RouteVar(r, "token"))
	if err != nil || l.Target == "" {
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "invalid link", Err: err}
	}
	if r.Method != http.MethodHead { // link checkers and previews only look
		c.recordEmail(l, store.EmailClick)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", l.Target)
	w.WriteHeader(http.StatusFound)
	return nil
}

// HandleEmailOpen is GET /p/{token}.gif: a newsletter's open pixel.
func (c *Collector) HandleEmailOpen(w http.ResponseWriter, r *http.Request) error {
	l, err := c.consent.Links().Verify(httpapi.RouteVar(r, "token"))
	if err != nil {
		return &httpapi.Error{Code: http.StatusBadRequest, Msg: "invalid pixel", Err: err}
	}
	if r.Method != http.MethodHead {
		c.recordEmail(l, store.EmailOpen)
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(transparentGIF) // the reader has gone if this fails
	return nil
}

// SubscriberUserID is the user id under which a subscriber's opens and
// clicks are stored: erasure and access by user id find them.
func SubscriberUserID(ref string) string { return "subscriber:" + ref }

// recordEmail stores an open or click when the subscriber's consent flags
// grant marketing: campaign and link only, plus the target with analytics.
// No IP or user agent is taken from the mail client, and no visitor key is
// set: the rollups count the event in the email_open or email_click
// dimension under its campaign and link (store.EmailValue), never as a web
// visit or visitor.
func (c *Collector) recordEmail(l links.Link, typ store.EventType) {
	if !l.Consent.Has(store.ConsentMarketing) {
		c.metrics.dropped.WithLabelValues("no_marketing").Inc()
		return
	}
	site, ok := c.sites.ByID(l.SiteID)
	if !ok {
		c.metrics.dropped.WithLabelValues("unknown_site").Inc()
		return
	}
	now := c.now().UTC().Truncate(time.Second)
	if l.Expires.IsZero() || !now.Before(l.Expires) {
		// Tracking ends with the link's expiry; a link signed before links
		// had one cannot be erased by subscriber, so it records nothing.
		c.metrics.dropped.WithLabelValues("link_expired").Inc()
		return
	}
	e := store.Event{
		ID: uuid.New(), SiteID: l.SiteID, Type: typ, Time: now, ReceivedAt: now, Consent: l.Consent,
		UTMMedium: "email", UTMCampaign: l.Campaign, UTMContent: l.LinkID,
	}
	if l.Subscriber != "" {
		e.UserID = SubscriberUserID(l.Subscriber)
	}
	if l.Consent.Has(store.ConsentAnalytics) {
		e.Source = "email"
		e.Target = enrich.CleanTarget(l.Target, enrich.SiteRules{AllowedQuery: c.siteRules(site.Domain).AllowedQuery})
	}
	if !c.buffer.Enqueue(e) {
		c.metrics.dropped.WithLabelValues("busy").Inc()
		return
	}
	c.metrics.accepted.Inc()
}
