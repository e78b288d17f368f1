package consent

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// fieldNeeds classifies every field of store.Event: the categories that
// must all be in effect for Filter to keep it. 0 is a field kept even when
// the event is not to be stored. A field missing here fails the test, so a
// new store.Event field cannot slip through unclassified.
var fieldNeeds = map[string]store.Categories{
	"ID": 0, "SiteID": 0, "Type": 0, "Time": 0, "ReceivedAt": 0,

	"Host": store.ConsentAnalytics, "Path": store.ConsentAnalytics, "Query": store.ConsentAnalytics,
	"Referrer": store.ConsentAnalytics, "ReferrerHost": store.ConsentAnalytics, "Source": store.ConsentAnalytics,
	"IP": store.ConsentAnalytics, "IPTrunc": store.ConsentAnalytics,
	"VisitorKey": store.ConsentAnalytics, "KeyVersion": store.ConsentAnalytics, "SessionID": store.ConsentAnalytics,
	"Browser": store.ConsentAnalytics, "BrowserVersion": store.ConsentAnalytics, "OS": store.ConsentAnalytics, "OSVersion": store.ConsentAnalytics,
	"Device": store.ConsentAnalytics, "ScreenWidth": store.ConsentAnalytics, "Language": store.ConsentAnalytics,
	"Country": store.ConsentAnalytics, "Region": store.ConsentAnalytics, "City": store.ConsentAnalytics, "ASN": store.ConsentAnalytics, "ISP": store.ConsentAnalytics,
	"Name": store.ConsentAnalytics, "Target": store.ConsentAnalytics, "Props": store.ConsentAnalytics, "EngagedMS": store.ConsentAnalytics,
	"ScrollDepth": store.ConsentAnalytics, "RevenueAmount": store.ConsentAnalytics, "RevenueCurrency": store.ConsentAnalytics,
	"ConsentID": store.ConsentAnalytics, "PolicyVersion": store.ConsentAnalytics, "Bot": store.ConsentAnalytics, "BotReason": store.ConsentAnalytics,

	"UserID": store.ConsentAnalytics | store.ConsentPersonalization,

	// UTM tags describe the traffic source: analytics (PRODUCT.md).
	"UTMSource": store.ConsentAnalytics, "UTMMedium": store.ConsentAnalytics, "UTMCampaign": store.ConsentAnalytics, "UTMTerm": store.ConsentAnalytics, "UTMContent": store.ConsentAnalytics,

	"ClickID": store.ConsentAnalytics | store.ConsentMarketing,
}

// setByFilter are the fields Filter writes rather than keeps or clears.
var setByFilter = map[string]bool{"Consent": true, "GPC": true}

// populatedEvent returns an event with every field set to a distinct
// non-zero value.
func populatedEvent(t testing.TB) store.Event {
	t.Helper()
	var e store.Event
	v := reflect.ValueOf(&e).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeFor[time.Time]():
			f.Set(reflect.ValueOf(t0.Add(time.Duration(i) * time.Second)))
		case f.Type() == reflect.TypeFor[uuid.UUID]():
			f.Set(reflect.ValueOf(uuid.UUID{15: byte(i + 1)}))
		case f.Type() == reflect.TypeFor[[]store.Prop]():
			f.Set(reflect.ValueOf([]store.Prop{{Key: "k", Value: name}}))
		case f.Kind() == reflect.String:
			f.SetString("x-" + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanUint():
			f.SetUint(uint64(i + 1))
		default:
			t.Fatalf("populatedEvent: field %s of type %s: teach the test to fill it", name, f.Type())
		}
		if f.IsZero() {
			t.Fatalf("populatedEvent: field %s still zero", name)
		}
	}
	return e
}

func TestFieldTableCoversEvent(t *testing.T) {
	typ := reflect.TypeFor[store.Event]()
	seen := map[string]bool{}
	for f := range typ.Fields() {
		seen[f.Name] = true
		if _, ok := fieldNeeds[f.Name]; !ok && !setByFilter[f.Name] {
			t.Errorf("store.Event.%s is not classified: add it to fieldNeeds (and to Filter, if it needs more than analytics)", f.Name)
		}
	}
	for name := range fieldNeeds {
		if !seen[name] {
			t.Errorf("fieldNeeds lists %s, which store.Event does not have", name)
		}
	}
}

func TestFilter(t *testing.T) {
	full := populatedEvent(t)
	fullV := reflect.ValueOf(full)
	for granted := store.Categories(0); granted <= store.ConsentAll; granted++ {
		for _, gpc := range []bool{false, true} {
			eff := granted
			if gpc {
				eff &^= store.ConsentMarketing
			}
			t.Run(fmt.Sprintf("granted=%s/gpc=%t", granted, gpc), func(t *testing.T) {
				e := populatedEvent(t)
				Filter(&e, granted, gpc)
				v := reflect.ValueOf(e)
				for i := range v.NumField() {
					name := v.Type().Field(i).Name
					got, orig := v.Field(i), fullV.Field(i)
					if setByFilter[name] {
						continue
					}
					needs, ok := fieldNeeds[name]
					if !ok {
						continue // TestFieldTableCoversEvent reports it
					}
					switch keep := eff.Has(needs); {
					case keep && !reflect.DeepEqual(got.Interface(), orig.Interface()):
						t.Errorf("%s = %v, want kept as %v", name, got, orig)
					case !keep && !got.IsZero():
						t.Errorf("%s = %v, want zeroed", name, got)
					}
				}
				if got, want := e.Consent, eff; got != want {
					t.Errorf("Consent = %#x, want %#x", got, want)
				}
				if !e.GPC {
					t.Errorf("GPC = false, want the populated true kept")
				}
			})
		}
	}
}

func TestFilterSignals(t *testing.T) {
	for _, tc := range []struct {
		name        string
		granted     store.Categories
		gpc, inGPC  bool
		wantConsent store.Categories
		wantGPC     bool
	}{
		{"gpc sets GPC", store.ConsentAll, true, false, store.ConsentAnalytics | store.ConsentPersonalization, true},
		{"no gpc keeps GPC false", store.ConsentAll, false, false, store.ConsentAnalytics | store.ConsentPersonalization | store.ConsentMarketing, false},
		{"no gpc keeps GPC set by the caller (DNT)", store.ConsentAnalytics, false, true, store.ConsentAnalytics, true},
		{"gpc without analytics", store.ConsentMarketing, true, false, 0, true},
		{"unknown bits are dropped", 0xff, false, false, store.ConsentAnalytics | store.ConsentPersonalization | store.ConsentMarketing, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := store.Event{GPC: tc.inGPC}
			Filter(&e, tc.granted, tc.gpc)
			if e.Consent != tc.wantConsent || e.GPC != tc.wantGPC {
				t.Errorf("Consent, GPC = %#x, %t; want %#x, %t", e.Consent, e.GPC, tc.wantConsent, tc.wantGPC)
			}
		})
	}
}

func BenchmarkFilter(b *testing.B) {
	full := populatedEvent(b)
	b.ReportAllocs()
	for b.Loop() {
		e := full
		Filter(&e, store.ConsentAnalytics|store.ConsentPersonalization, true)
	}
}

// TestFilterKeepsDimensionsByTheirConsent holds store.Dimensions to
// Filter: a dimension's value (of an events column) is kept exactly when
// its consent category (with analytics, without which nothing is stored)
// is in effect.
func TestFilterKeepsDimensionsByTheirConsent(t *testing.T) {
	for _, d := range store.Dimensions {
		if d.Column == "" {
			continue // the totals and the e-mail dimensions read no column of their own
		}
		for granted := store.Categories(0); granted <= store.ConsentAll; granted++ {
			e := populatedEvent(t)
			want := d.Value(&e)
			Filter(&e, granted, false)
			got := d.Value(&e)
			switch keep := granted.Has(d.Consent | store.ConsentAnalytics); {
			case keep && got != want:
				t.Errorf("%s under %s: %q, want kept as %q", d.Name, granted, got, want)
			case !keep && got != "":
				t.Errorf("%s under %s: %q, want cleared (its category is %s)", d.Name, granted, got, d.Consent)
			}
		}
	}
}
