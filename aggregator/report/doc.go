// Package report plans and answers the analysts' reports — aggregate,
// timeseries and breakdown — apart from any transport: the stats API
// (web/reports) and footfall report call the same Planner with the same
// Query and render the same Result.
//
// It reads the aggregator's rollups: hourly windows (UTC hours) and daily
// windows (days in the site's zone), the current window included and
// marked partial. What the rollups answer and what needs the raw events:
//
//   - Counts that add up over windows (visits, pageviews, events, bounces,
//     durations, engaged time) are summed from the windows' rows. Visits
//     are cut at window edges, as the aggregator defines them.
//   - Unique visitors of one window come from its row. Unique visitors of a
//     range of several windows are never summed: they are counted exactly
//     from the raw events, within their retention — all visitors with
//     DistinctVisitors, those of a dimension value (a filter with "==", a
//     breakdown) with VisitorsByValue, which applies the rollups' rules to
//     the whole range as one window.
//   - Filters (at most store.MaxFilters, separated by ';') are combined
//     with AND. A visit matches "==" or "~" (contains, case-insensitive)
//     when its value of a session dimension does, or one of its events'
//     values of an event dimension does; it matches "!=" when it does not
//     have the value (for an event dimension: none of its events has it).
//   - The rollups answer exactly, and so are read, for no filter; for one
//     filter on a session dimension (the rows whose value matches), except
//     visitors under "!=" and "~" (VisitorsMatching counts them from the
//     raw events, as one window); and for one "==" filter on an event
//     dimension its visitors, visits, pageviews and events (those of the
//     events with the value, as the rollup rows count them). A breakdown
//     reads them unfiltered or filtered on its own property only.
//   - Everything else reads the raw events within their retention
//     (FilteredBreakdown): the rollups' rules over the whole period as one
//     window (a timeseries: each point one window, all points in one
//     query), the visits that match every filter, and all their pageviews,
//     events and durations. A breakdown of a filtered property lists only
//     the values the filters on it allow. Because the period is one window,
//     a visit across midnight counts once there, where summed daily rollups
//     count it once per day.
//   - The e-mail dimensions count events that belong to no visit: a filter
//     on one goes only alone on a breakdown of it (the rollups), and a
//     breakdown of one takes no other filter.
//
// Bad input (an unknown period, metric, filter …) is an *InputError, whose
// message is meant for the person who asked.
package report
