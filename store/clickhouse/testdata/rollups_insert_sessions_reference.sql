-- Aggregates the session dimensions of the windows of one site in
-- [@from, @to) into rollups from the windows' visit rows, just written by
-- visits_insert.sql (the events are sessionised once, there): one row per
-- visit and dimension, its value and its metrics (the totals are the
-- dimension ''), so visits are a count. The caller has deleted the
-- windows' earlier rows.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), window_start, d.1 AS dim, d.2 AS value,
       uniqExact(visitor_key), count(),
       sum(pageviews), sum(events), sum(toUInt64(bounce)), sum(duration_s), sum(engaged_ms), toUInt8(@partial), toUInt64(@version)
FROM visits
ARRAY JOIN arrayPushFront(arrayMap((n, v) -> (n, v), session_dims, session_values), ('', '')) AS d
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
  AND has(@dims, d.1)
GROUP BY window_start, dim, value;
