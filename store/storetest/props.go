package storetest

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/footfall/footfall/store"
)

// PropsBackend is what the custom property suite exercises.
type PropsBackend interface {
	Backend
	FilteredBreakdown(ctx context.Context, q store.FilteredBreakdownQuery) ([]store.RollupRow, error)
}

// PropsDay is the day of the props fixture (PropsEvents).
var PropsDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// PropsEvents are four visits of one day, with answers worked out by hand
// in RunProps:
//
//	A  visitor 1, session 1, DE: pageview / 10:00 {plan=pro}, event Signup 10:01 {plan=pro},
//	   event Click 10:02 {color=red, plan=pro}
//	B  visitor 1, session 2, DE: pageview /pricing 12:00, event Signup 12:01 {plan=free}
//	C  visitor 2, session 3, FR: pageview / 11:00, event Buy 11:05 {color=blue, plan=pro}
//	D  visitor 3, session 4, FR: pageview /docs 11:00 {plan=}
//	   and a bot's pageview {plan=pro}, in no visit.
func PropsEvents(site uint32) []store.Event {
	ev := func(visitor, session uint64, country string, typ store.EventType, path, name string, hm string, props ...string) store.Event {
		at, err := time.Parse("15:04", hm)
		if err != nil {
			panic(err)
		}
		e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Host: "props.test", Path: path, Name: name,
			Time:       PropsDay.Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute),
			VisitorKey: visitor, KeyVersion: 1, SessionID: session, Country: country, Consent: store.ConsentAnalytics}
		e.ReceivedAt = e.Time
		for i := 0; i+1 < len(props); i += 2 {
			e.Props = append(e.Props, store.Prop{Key: props[i], Value: props[i+1]})
		}
		return e
	}
	bot := ev(9, 9, "DE", store.Pageview, "/", "", "10:00", "plan", "pro")
	bot.Bot, bot.BotReason = true, "test"
	return []store.Event{
		ev(1, 1, "DE", store.Pageview, "/", "", "10:00", "plan", "pro"),
		ev(1, 1, "DE", store.Custom, "/", "Signup", "10:01", "plan", "pro"),
		ev(1, 1, "DE", store.Custom, "/", "Click", "10:02", "color", "red", "plan", "pro"),
		ev(1, 2, "DE", store.Pageview, "/pricing", "", "12:00"),
		ev(1, 2, "DE", store.Custom, "/pricing", "Signup", "12:01", "plan", "free"),
		ev(2, 3, "FR", store.Pageview, "/", "", "11:00"),
		ev(2, 3, "FR", store.Custom, "/", "Buy", "11:05", "color", "blue", "plan", "pro"),
		ev(3, 4, "FR", store.Pageview, "/docs", "", "11:00", "plan", ""),
		bot,
	}
}

// RunProps checks custom property breakdowns and filters (store.PropDimension)
// in FilteredBreakdown against answers worked out by hand. A visit with
// several events of one value counts once in visits and visitors; its
// events each count.
func RunProps(t *testing.T, open func(t *testing.T) PropsBackend) {
	b := open(t)
	site := addSite(t, b).ID
	if err := b.InsertEvents(context.Background(), PropsEvents(site)); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	type row struct {
		value                                                     string
		visitors, visits, pageviews, events, bounces, durationSec uint64
	}
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	for _, c := range []struct {
		name    string
		dim     string
		filters []store.Filter
		want    []row
	}{
		// plan=pro: visits A (1 pageview, 2 events with it) and C (1 event).
		{"ValuesOfKey", "props:plan", []store.Filter{f("props:plan", "~", "")}, []row{
			{"free", 1, 1, 0, 1, 0, 0}, {"pro", 2, 2, 1, 3, 0, 0}}},
		{"Keys", store.DimProps, []store.Filter{f(store.DimProps, "~", "")}, []row{
			{"color", 2, 2, 0, 2, 0, 0}, {"plan", 2, 3, 1, 4, 0, 0}}},
		// Whole visits A and C: 2 + 1 + 1 + 1 events, 120 s + 300 s.
		{"FilterEqual", store.DimTotal, []store.Filter{f("props:plan", "==", "pro")}, []row{
			{"", 2, 2, 2, 3, 0, 420}}},
		// Visits B and D (D's empty value is no value).
		{"FilterNotEqual", store.DimTotal, []store.Filter{f("props:plan", "!=", "pro")}, []row{
			{"", 2, 2, 2, 1, 1, 60}}},
		{"FilterContainsByPage", store.DimPage, []store.Filter{f("props:color", "~", "RE")}, []row{
			{"/", 1, 1, 1, 2, 0, 0}}},
		{"FilterWithSessionDimension", store.DimEventName, []store.Filter{
			f("props:plan", "==", "pro"), f(store.DimCountry, "==", "DE")}, []row{
			{"Click", 1, 1, 0, 1, 0, 0}, {"Signup", 1, 1, 0, 1, 0, 0}}},
		{"ValuesFilteredByKey", "props:plan", []store.Filter{f(store.DimProps, "==", "color")}, []row{
			{"pro", 2, 2, 1, 3, 0, 0}}},
		{"UnknownKey", store.DimTotal, []store.Filter{f("props:none", "==", "x")}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := store.FilteredBreakdownQuery{SiteID: site, Dimension: c.dim, Filters: c.filters, From: PropsDay, To: PropsDay.Add(24 * time.Hour)}
			rows, err := b.FilteredBreakdown(context.Background(), q)
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			sortRollups(rows)
			var got []row
			for _, r := range rows {
				if r.Dimension != c.dim || !r.WindowStart.Equal(PropsDay) {
					t.Errorf("row of %q at %v, want %q at %v", r.Dimension, r.WindowStart, c.dim, PropsDay)
				}
				got = append(got, row{r.Value, r.Visitors, r.Visits, r.Pageviews, r.Events, r.Bounces, r.DurationSec})
			}
			if diff := gocmp.Diff(c.want, got, gocmp.AllowUnexported(row{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FilteredBreakdown(%v by %q) (-want +got):\n%s", c.filters, c.dim, diff)
			}
		})
	}
}
