-- A condition reports.go adds to each read of the events fragment in a
-- filtered breakdown with FromVisits (store.FilteredBreakdownQuery): only
-- the events of the visits (visitor key and session id; every visit
-- without a session id of a visitor key is session id 0) that have, for
-- each filter on a dimension the visit rows keep, a daily visit row of
-- [@from, @to) that matches it ({{narrow_filters}}: one IN per filter,
-- reports_narrow_filter.sql), and of every visitor key with an event at
-- or after @fresh, whose windows the aggregator has not seen whole. The
-- filters themselves are still tested on the events; a visit that
-- matches them all is among these (docs/reports.md, Funnels), so the
-- answer is the one of every event. The keys are hashed so that the sets
-- are not on primary key columns: 18.16 builds such a set for the index
-- analysis each time a query level is analysed (2.7 s more per read at
-- 1M events); a collision only reads a visit more.
AND ((1{{narrow_filters}}) OR cityHash64(visitor_key) IN
(
    SELECT cityHash64(visitor_key) FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@fresh, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@fresh, 'UTC') AND ts < toDateTime(@to, 'UTC')
))
