-- Metrics per bucket and value of @bdim over the visit rows of one site and
-- granularity whose window starts in [@from, @to) and that match every
-- filter (store.VisitQuery). The filters are @fdims, @fops and @fvals,
-- parallel arrays padded to store.MaxFilters; visits.go puts one condition
-- per filter (visits_filter.sql, its number for N) where {{filters}} is,
-- so a query tests only the filters it has (18.16 does not short-circuit
-- OR, so a condition per unused slot would cost as much as a used one).
-- A visit has the pair (d, v) when its value
-- of session dimension d is v or one of its events' values of event
-- dimension d is v; a filter's hit is such a pair with the filter's
-- dimension and a value that is (==, !=) or contains (~,
-- case-insensitively) the filter's value. A visit matches "==" and "~"
-- with a hit, "!=" without one. @bkind says what @bdim is: 0 the totals,
-- 1 a session dimension (the visit's value, its metrics), 2 an event
-- dimension (each value it touched, with that value's pageviews, events
-- and engaged time; bounces and duration zero, as in the rollups). A
-- window belongs to the last of @buckets (Unix seconds, ascending) at or
-- before it; the arrayResize hands the window to the lambda as an
-- argument, as the rollup fragments do. visits.go puts the visits table
-- where {{visits}} is, and SAMPLE 1/@sample after it for a sampled read
-- (store.VisitQuery.Sample); with goals (store.VisitQuery.Goals),
-- visits_goals.sql in its place, the same rows with the goals each
-- visit reached among its touched values (dimension goal).
SELECT bucket, b.1 AS value, uniqExact(visitor_key), count(), sum(b.2), sum(b.3), sum(b.4), sum(b.5), sum(b.6)
FROM
(
    SELECT toUInt32(arrayElement(@buckets, toUInt64(arrayCount((x, w) -> x <= w, @buckets,
               arrayResize(emptyArrayUInt32(), length(@buckets), toUInt32(window_start)))))) AS bucket,
           visitor_key, session_dims, session_values, touched_dims, touched_values,
           touched_pageviews, touched_events, touched_engaged_ms, pageviews, events, bounce, duration_s, engaged_ms
    FROM {{visits}}
    WHERE site_id = @site AND granularity = @granularity
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
      {{filters}}
)
ARRAY JOIN if(@bkind = 2,
    arrayFilter((x, d) -> d = @bdim,
        arrayMap((v, p, e, g) -> (v, p, e, toUInt64(0), toUInt64(0), g), touched_values, touched_pageviews, touched_events, touched_engaged_ms),
        touched_dims),
    [(if(@bkind = 1, arrayElement(session_values, indexOf(session_dims, @bdim)), ''), pageviews, events, toUInt64(bounce), duration_s, engaged_ms)]) AS b
GROUP BY bucket, value;
