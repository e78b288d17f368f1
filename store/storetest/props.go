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

// propsDayAt is the time hm ("15:04") of PropsDay, for the fixtures of
// that day.
func propsDayAt(hm string) time.Time {
	at, err := time.Parse("15:04", hm)
	if err != nil {
		panic(err)
	}
	return PropsDay.Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
}

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
		e := store.Event{ID: uuid.New(), SiteID: site, Type: typ, Host: "props.test", Path: path, Name: name,
			Time:       propsDayAt(hm),
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
	runHandCases(t, open(t), nil, nil, propsCases())
}

// RunVisitProps checks that the visit rows keep the custom properties
// (store.TouchedDimensions, store.TouchedVersion): RunProps' cases,
// answered by VisitBreakdown over the daily visit rows of PropsDay that
// ReplaceRollups wrote, equal the hand-worked answers (no visit of
// PropsEvents crosses a window edge, so cutting visits there changes
// nothing), and WindowsMissing says the day's rows keep them.
func RunVisitProps(t *testing.T, open func(t *testing.T) VisitBackend) {
	ctx := context.Background()
	b := open(t)
	site := addSite(t, b).ID
	if err := b.InsertEvents(ctx, PropsEvents(site)); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	day := store.RollupQuery{SiteID: site, Granularity: store.Daily, From: PropsDay, To: PropsDay.Add(24 * time.Hour)}
	if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: day.From, To: day.To, Version: 1}); err != nil {
		t.Fatalf("ReplaceRollups: %v", err)
	}
	if m, err := b.WindowsMissing(ctx, day); err != nil || m.Values {
		t.Fatalf("WindowsMissing after ReplaceRollups = %+v, %v; want the values kept", m, err)
	}
	for _, c := range propsCases() {
		t.Run(c.name, func(t *testing.T) {
			rows, err := b.VisitBreakdown(ctx, store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: c.dim,
				Filters: c.filters, From: day.From, To: day.To})
			if err != nil {
				t.Fatalf("VisitBreakdown: %v", err)
			}
			checkHandRows(t, c, rows, nil)
		})
	}
}

// propsCases are RunProps' questions over PropsEvents, answered by hand.
func propsCases() []handCase {
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	return []handCase{
		// plan=pro: visits A (1 pageview, 2 events with it) and C (1 event).
		{"ValuesOfKey", "props:plan", []store.Filter{f("props:plan", "~", "")}, []handRow{
			{"free", 1, 1, 0, 1, 0, 0}, {"pro", 2, 2, 1, 3, 0, 0}}},
		{"Keys", store.DimProps, []store.Filter{f(store.DimProps, "~", "")}, []handRow{
			{"color", 2, 2, 0, 2, 0, 0}, {"plan", 2, 3, 1, 4, 0, 0}}},
		// Whole visits A and C: 2 + 1 + 1 + 1 events, 120 s + 300 s.
		{"FilterEqual", store.DimTotal, []store.Filter{f("props:plan", "==", "pro")}, []handRow{
			{"", 2, 2, 2, 3, 0, 420}}},
		// Visits B and D (D's empty value is no value).
		{"FilterNotEqual", store.DimTotal, []store.Filter{f("props:plan", "!=", "pro")}, []handRow{
			{"", 2, 2, 2, 1, 1, 60}}},
		{"FilterContainsByPage", store.DimPage, []store.Filter{f("props:color", "~", "RE")}, []handRow{
			{"/", 1, 1, 1, 2, 0, 0}}},
		{"FilterWithSessionDimension", store.DimEventName, []store.Filter{
			f("props:plan", "==", "pro"), f(store.DimCountry, "==", "DE")}, []handRow{
			{"Click", 1, 1, 0, 1, 0, 0}, {"Signup", 1, 1, 0, 1, 0, 0}}},
		{"ValuesFilteredByKey", "props:plan", []store.Filter{f(store.DimProps, "==", "color")}, []handRow{
			{"pro", 2, 2, 1, 3, 0, 0}}},
		{"UnknownKey", store.DimTotal, []store.Filter{f("props:none", "==", "x")}, nil},
	}
}

// handRow is one row of a hand-worked answer.
type handRow struct {
	value                                                     string
	visitors, visits, pageviews, events, bounces, durationSec uint64
}

// handCase is one FilteredBreakdown over PropsEvents, answered by hand.
type handCase struct {
	name    string
	dim     string
	filters []store.Filter
	want    []handRow
}

// runHandCases stores PropsEvents and extra's events for a new site of b
// and checks each case's FilteredBreakdown over PropsDay, with goals.
func runHandCases(t *testing.T, b PropsBackend, goals []store.GoalMatch, extra func(events []store.Event) []store.Event, cases []handCase) {
	site := addSite(t, b).ID
	events := PropsEvents(site)
	if extra != nil {
		events = append(events, extra(events)...)
	}
	checkHandCases(t, b, site, events, goals, nil, cases)
}

// checkHandCases stores events for site and checks each case's
// FilteredBreakdown over PropsDay, with goals and, by case name, the
// steps of a funnel.
func checkHandCases(t *testing.T, b PropsBackend, site uint32, events []store.Event, goals []store.GoalMatch, funnels map[string][]string, cases []handCase) {
	if err := b.InsertEvents(context.Background(), events); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := store.FilteredBreakdownQuery{SiteID: site, Dimension: c.dim, Filters: c.filters, Goals: goals,
				Funnel: funnels[c.name], From: PropsDay, To: PropsDay.Add(24 * time.Hour)}
			rows, err := b.FilteredBreakdown(context.Background(), q)
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			checkHandRows(t, c, rows, funnels[c.name])
		})
	}
}

// checkHandRows checks a breakdown's rows (of PropsDay) against the case's
// hand-worked answer.
func checkHandRows(t *testing.T, c handCase, rows []store.RollupRow, funnel []string) {
	t.Helper()
	sortRollups(rows)
	var got []handRow
	for _, r := range rows {
		if r.Dimension != c.dim || !r.WindowStart.Equal(PropsDay) {
			t.Errorf("row of %q at %v, want %q at %v", r.Dimension, r.WindowStart, c.dim, PropsDay)
		}
		got = append(got, handRow{r.Value, r.Visitors, r.Visits, r.Pageviews, r.Events, r.Bounces, r.DurationSec})
	}
	if diff := gocmp.Diff(c.want, got, gocmp.AllowUnexported(handRow{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("breakdown(%v by %q %v) (-want +got):\n%s", c.filters, c.dim, funnel, diff)
	}
}

// NotFoundEvent is visit D's page found missing: the custom event 404 a
// second after D's pageview of /docs, as the page not found sends it.
func NotFoundEvent(events []store.Event) []store.Event {
	e := events[len(events)-2]
	e.ID, e.Type, e.Name, e.Props = uuid.New(), store.Custom, store.NotFoundEvent, nil
	e.Time = e.Time.Add(time.Second)
	e.ReceivedAt = e.Time
	return []store.Event{e}
}

// propsGoals are goals over PropsEvents (store.GoalMatch: page goals'
// paths resolved).
var propsGoals = []store.GoalMatch{
	{Name: "Signup", Event: "Signup"},
	{Name: "Pro signup", Event: "Signup", Props: []store.Prop{{Key: "plan", Value: "pro"}}},
	{Name: "Home", Paths: []string{"/"}},
	{Name: "Docs or pricing", Paths: []string{"/docs", "/pricing"}},
	{Name: "Red click", Event: "Click", Props: []store.Prop{{Key: "color", Value: "red"}, {Key: "plan", Value: "pro"}}},
	{Name: "Red free click", Event: "Click", Props: []store.Prop{{Key: "color", Value: "red"}, {Key: "plan", Value: "free"}}},
	{Name: "Blue buy", Event: "Buy", Props: []store.Prop{{Key: "color", Value: "red"}}},
	{Name: "Nowhere", Paths: nil},
}

// RunGoals checks goals (store.DimGoal) in FilteredBreakdown against
// answers worked out by hand over PropsEvents: a page goal is reached by a
// pageview of its paths only (not by other events on them), an event goal
// by an event of its name with every one of its props on that event.
func RunGoals(t *testing.T, open func(t *testing.T) PropsBackend) {
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	runHandCases(t, open(t), propsGoals, NotFoundEvent, []handCase{
		// Signup: visits A and B of visitor 1; Home: the pageviews of /
		// in A and C (A's events on / are no pageviews).
		{"Breakdown", store.DimGoal, []store.Filter{f(store.DimGoal, "~", "")}, []handRow{
			{"Docs or pricing", 2, 2, 2, 0, 0, 0}, {"Home", 2, 2, 2, 0, 0, 0}, {"Pro signup", 1, 1, 0, 1, 0, 0},
			{"Red click", 1, 1, 0, 1, 0, 0}, {"Signup", 1, 2, 0, 2, 0, 0}}},
		goalFilterCases[0], goalFilterCases[1],
		// The 404 event's path; not the pageview's, nor other events'.
		{"BrokenURLs", store.DimNotFound, []store.Filter{f(store.DimNotFound, "~", "")}, []handRow{
			{"/docs", 1, 1, 0, 1, 0, 0}}},
		{"PagesOfBrokenURLVisits", store.DimPage, []store.Filter{f(store.DimNotFound, "==", "/docs")}, []handRow{
			{"/docs", 1, 1, 1, 1, 0, 0}}},
		{"GoalsOfVisitsWithProp", store.DimGoal, []store.Filter{f("props:color", "==", "blue")}, []handRow{
			{"Home", 1, 1, 1, 0, 0, 0}}},
		{"NotReached", store.DimTotal, []store.Filter{f(store.DimGoal, "==", "Blue buy")}, nil},
	})
}

// goalFilterCases are goal filters over PropsEvents and visit D's 404 that
// RunGoals (raw) and RunVisitGoals (visit rows) both answer.
var goalFilterCases = []handCase{
	// Whole visits A and B: 2 pageviews, 3 events, 120 s + 60 s.
	{"FilterReached", store.DimTotal, []store.Filter{{Dim: store.DimGoal, Op: "==", Value: "Signup"}}, []handRow{
		{"", 1, 2, 2, 3, 0, 180}}},
	// Visits B and D (D's 404 a second after its pageview).
	{"FilterNotReached", store.DimTotal, []store.Filter{{Dim: store.DimGoal, Op: "!=", Value: "Home"}}, []handRow{
		{"", 2, 2, 2, 2, 0, 61}}},
}

// visitGoals are the goals of propsGoals that the visit rows answer
// (store.VisitGoals: no props), and the built-in 404 goal.
var visitGoals = []store.GoalMatch{
	{Name: "Signup", Event: "Signup"},
	{Name: "Home", Paths: []string{"/"}},
	{Name: "Docs or pricing", Paths: []string{"/docs", "/pricing"}},
	{Name: "Click", Event: "Click"},
	{Name: store.NotFoundGoal.Name, Event: store.NotFoundGoal.Event},
	{Name: "Nowhere", Paths: nil},
}

// RunVisitGoals checks goals (store.DimGoal) answered from the visit rows
// (store.VisitQuery.Goals) that ReplaceRollups wrote for PropsEvents and
// visit D's 404: as a breakdown and as filters, each equal to the
// hand-worked answer and to the raw events' (FilteredBreakdown) on the
// same day (no visit crosses a window edge). A page goal is reached by a
// pageview of its paths only (A's events on / are no pageviews of it),
// an event goal by a click or custom event of its name. Goals with props
// are refused: the visit rows do not keep which event had which props.
func RunVisitGoals(t *testing.T, open func(t *testing.T) VisitBackend) {
	ctx := context.Background()
	b := open(t)
	site := addSite(t, b).ID
	events := PropsEvents(site)
	if err := b.InsertEvents(ctx, append(events, NotFoundEvent(events)...)); err != nil {
		t.Fatalf("InsertEvents: %v", err)
	}
	from, to := PropsDay, PropsDay.Add(24*time.Hour)
	if _, err := b.ReplaceRollups(ctx, store.RollupSpec{SiteID: site, Granularity: store.Daily, From: from, To: to, Version: 1}); err != nil {
		t.Fatalf("ReplaceRollups: %v", err)
	}
	f := func(dim, op, value string) store.Filter { return store.Filter{Dim: dim, Op: op, Value: value} }
	for _, c := range []handCase{
		{"Breakdown", store.DimGoal, []store.Filter{f(store.DimGoal, "~", "")}, []handRow{
			{"404", 1, 1, 0, 1, 0, 0}, {"Click", 1, 1, 0, 1, 0, 0}, {"Docs or pricing", 2, 2, 2, 0, 0, 0},
			{"Home", 2, 2, 2, 0, 0, 0}, {"Signup", 1, 2, 0, 2, 0, 0}}},
		goalFilterCases[0], goalFilterCases[1],
		{"FilterContainsByPage", store.DimPage, []store.Filter{f(store.DimGoal, "~", "SIGN")}, []handRow{
			{"/", 1, 1, 1, 2, 0, 0}, {"/pricing", 1, 1, 1, 1, 0, 0}}},
		{"FilterWithSessionDimension", store.DimTotal, []store.Filter{f(store.DimGoal, "==", "Home"), f(store.DimCountry, "==", "FR")}, []handRow{
			{"", 1, 1, 1, 1, 0, 300}}},
		{"GoalsOfVisitsWithProp", store.DimGoal, []store.Filter{f("props:color", "==", "blue")}, []handRow{
			{"Home", 1, 1, 1, 0, 0, 0}}},
		{"NotReached", store.DimTotal, []store.Filter{f(store.DimGoal, "==", "Nowhere")}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, err := b.VisitBreakdown(ctx, store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: c.dim,
				Filters: c.filters, From: from, To: to, Goals: visitGoals})
			if err != nil {
				t.Fatalf("VisitBreakdown: %v", err)
			}
			checkHandRows(t, c, rows, nil)
			raw, err := b.FilteredBreakdown(ctx, store.FilteredBreakdownQuery{SiteID: site, Dimension: c.dim,
				Filters: c.filters, From: from, To: to, Goals: visitGoals})
			if err != nil {
				t.Fatalf("FilteredBreakdown: %v", err)
			}
			sortRollups(rows)
			sortRollups(raw)
			if diff := gocmp.Diff(raw, rows, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("visit rows' answer differs from the raw events' (-raw +visits):\n%s", diff)
			}
		})
	}
	_, err := b.VisitBreakdown(ctx, store.VisitQuery{SiteID: site, Granularity: store.Daily, Dimension: store.DimGoal,
		Filters: []store.Filter{f(store.DimGoal, "~", "")}, From: from, To: to, Goals: propsGoals})
	if err == nil {
		t.Errorf("VisitBreakdown of goals with props: no error, want one")
	}
	t.Run("FunnelFromVisits", func(t *testing.T) {
		check := func(fresh time.Time) {
			t.Helper()
			for _, filters := range [][]store.Filter{
				{f(store.DimCountry, "==", "DE")},
				{f(store.DimCountry, "!=", "DE")},
				{f(store.DimCountry, "~", "f"), f(store.DimPage, "==", "/")},
				{f("props:plan", "==", "pro")},
				{f(store.DimEventName, "!=", "Buy"), f(store.DimGoal, "==", "Home")},
			} {
				want, got := everyAndNarrowed(t, b, store.FilteredBreakdownQuery{SiteID: site, Dimension: store.DimFunnel,
					Filters: filters, From: from, To: to, Goals: visitGoals, Funnel: []string{"Home", "Signup"}}, fresh)
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("funnel %v, fresh from %v, from the visit rows' visitors (-every event +narrowed):\n%s", filters, fresh, diff)
				}
				if len(want) == 0 && filters[0].Op == "==" {
					t.Errorf("funnel %v: no rows; the fixture has visits of it", filters)
				}
			}
		}
		check(to) // every event aggregated
		// A visit the aggregator has not seen: read as fresh only.
		late, signup := events[0], events[1]
		late.ID, late.VisitorKey, late.SessionID, late.Time = uuid.New(), 7, 7, propsDayAt("20:00")
		signup.ID, signup.VisitorKey, signup.SessionID, signup.Time = uuid.New(), 7, 7, propsDayAt("20:01")
		late.ReceivedAt, signup.ReceivedAt = late.Time, signup.Time
		if err := b.InsertEvents(ctx, []store.Event{late, signup}); err != nil {
			t.Fatalf("InsertEvents: %v", err)
		}
		check(from)
	})
}
