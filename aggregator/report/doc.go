// Package report plans and answers the analysts' reports — aggregate,
// timeseries and breakdown — apart from any transport: the stats API
// (web/reports) and footfall report call the same Planner with the same
// Query and render the same Result.
//
// It reads what the aggregator writes per window — hourly windows (UTC
// hours) and daily windows (days in the site's zone), the current window
// included and marked partial: rollups (exact counts per dimension value)
// and visit rows (one per visit and window, store.Visit). What each
// answers:
//
//   - Counts that add up over windows (visits, pageviews, events, bounces,
//     durations, engaged time) are summed from the windows' rollup rows.
//     Visits are cut at window edges, as the aggregator defines them.
//   - Unique visitors of one window come from its row. Unique visitors of a
//     range of several windows are never summed: they are counted exactly
//     from the visit rows (VisitBreakdown: distinct visitor keys), all
//     visitors or those of a filter or a breakdown value.
//   - Filters (at most store.MaxFilters, separated by ';') are combined
//     with AND. A visit matches "==" or "~" (contains, case-insensitive)
//     when its value of a session dimension does, or one of its events'
//     values of an event dimension does; it matches "!=" when it does not
//     have the value (for an event dimension: none of its events has it).
//   - The rollups answer exactly, and so are read, for no filter; for one
//     filter on a session dimension (the rows whose value matches), except
//     visitors under "!=" and "~"; and for one "==" filter on an event
//     dimension its visitors, visits, pageviews and events (those of the
//     events with the value, as the rollup rows count them). A breakdown
//     reads them unfiltered or filtered on its own property only.
//   - Everything else reads the visit rows (VisitBreakdown): the visits
//     that match every filter, and all their pageviews, events and
//     durations, per point of a timeseries (hourly rows for hourly points)
//     in one query. A breakdown of a filtered property lists only the
//     values the filters on it allow.
//   - Where visit rows cannot answer — a range with windows aggregated
//     before visit rows were kept (WindowsMissing), an hourly timeseries
//     not on whole UTC hours — the raw events are read within their
//     retention (DistinctVisitors, VisitorsByValue, VisitorsMatching,
//     FilteredBreakdown), the period as one window: a visit across
//     midnight counts once there, where visit rows and summed daily
//     rollups count it once per day.
//   - Custom properties (store.PropDimension: props:KEY, and props for
//     the keys) are event dimensions no rollup keeps: a breakdown by
//     one, or any filter on one, reads the visit rows (which keep them
//     since store.TouchedVersion 1; a range with older rows reads the
//     raw events, FilteredBreakdown); unfiltered, a breakdown of
//     props:KEY asks for the visits with any value of KEY (props:KEY~"").
//   - Goals (store.DimGoal, Query.Goals from the config) are an event
//     dimension of the same kind: an event's values are the goals it
//     reached (goals.go resolves wildcard pages to the period's paths). A
//     breakdown by goal lists every goal, with conversion_rate: its
//     visitors in % of the period's visitors under the same filters. The
//     visit rows answer them (store.VisitQuery.Goals: a page goal's
//     touched paths with pageviews, an event goal's touched name with
//     events) unless a goal has props (store.VisitGoals), or a goals
//     breakdown asks engaged_time: those read the raw events. A funnel
//     reads the raw events, of the visitors whose daily visit rows allow
//     its filters where they can (FromVisits, narrowing in funnels.go).
//     The broken URLs (store.DimNotFound: the paths of the events named
//     404, which not-found pages send) are one more such dimension.
//   - The e-mail dimensions count events that belong to no visit: a filter
//     on one goes only alone on a breakdown of it (the rollups), and a
//     breakdown of one takes no other filter.
//
// Bad input (an unknown period, metric, filter …) is an *InputError, whose
// message is meant for the person who asked.
package report
