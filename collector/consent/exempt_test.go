package consent

import (
	"reflect"
	"testing"
)

// exemptKeeps classifies every field of store.Event under FilterExempt:
// true kept, false cleared. A field missing here fails the test, so a new
// field has to be classified before it can reach an exempt row.
var exemptKeeps = map[string]bool{
	"ID": true, "SiteID": true, "Type": true, "Time": true, "ReceivedAt": true,
	"Host": true, "Path": true, "Query": true, "Referrer": true, "ReferrerHost": true, "Source": true,
	"VisitorKey": true, "KeyVersion": true, "SessionID": true,
	"Browser": true, "BrowserVersion": true, "OS": true, "OSVersion": true, "Device": true, "ScreenWidth": true, "Language": true,
	"Country": true, "Region": true, "City": true,
	"Name": true, "Target": true, "Props": true, "EngagedMS": true, "Bot": true, "BotReason": true,
	"ScrollDepth": true, "RevenueAmount": true, "RevenueCurrency": true,
	"UTMSource": true, "UTMMedium": true, "UTMCampaign": true, "UTMTerm": true, "UTMContent": true,
	"GPC": true,

	"IP": false, "IPTrunc": false, "ASN": false, "ISP": false, "UserID": false, "ClickID": false, "ConsentID": false,
}

func TestFilterExempt(t *testing.T) {
	e := populatedEvent(t)
	orig := e
	FilterExempt(&e)
	got, was := reflect.ValueOf(e), reflect.ValueOf(orig)
	for i := range got.NumField() {
		name := got.Type().Field(i).Name
		switch name {
		case "Consent":
			if e.Consent != 0 {
				t.Errorf("Consent = %d, want 0 (nothing granted)", e.Consent)
			}
			continue
		case "PolicyVersion":
			if e.PolicyVersion != ExemptPolicy {
				t.Errorf("PolicyVersion = %q, want %q", e.PolicyVersion, ExemptPolicy)
			}
			continue
		}
		keep, ok := exemptKeeps[name]
		if !ok {
			t.Errorf("field %s is not classified for exempt rows", name)
			continue
		}
		same := reflect.DeepEqual(got.Field(i).Interface(), was.Field(i).Interface())
		if keep && !same {
			t.Errorf("%s cleared, want kept", name)
		}
		if !keep && !got.Field(i).IsZero() {
			t.Errorf("%s = %v, want cleared", name, got.Field(i).Interface())
		}
	}
}
