package consent

import (
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// ExemptPolicy is the PolicyVersion an event counted without consent on an
// exempt site carries: the legal basis its row can prove instead of a
// consent id.
const ExemptPolicy = "exempt"

// FilterExempt strips from an event counted without consent (a site in
// consent-exempt mode, a visitor without a decision) what the exemption
// does not cover: the IP, even truncated, the network operator, the
// signed-in user, advertising click ids and the consent proof. Page,
// referrer, device, country/region/city, UTM tags and the daily-salted
// visitor key stay: they are the audience measurement itself. e.Consent
// is 0 (nothing was granted) and e.PolicyVersion is ExemptPolicy.
func FilterExempt(e *store.Event) {
	e.IP, e.IPTrunc = "", ""
	e.UserID = ""
	e.ConsentID = uuid.Nil
	e.ASN, e.ISP = 0, ""
	e.ClickID = ""
	e.Consent = 0
	e.PolicyVersion = ExemptPolicy
}
