-- Aggregates the event dimensions (page, event name and target) of the
-- windows of one site in [@from, @to) into rollups: visits are the distinct
-- visits the events belong to. A second statement rather than a UNION ALL
-- with the session dimensions, so ClickHouse holds one of them at a time.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'), dim, value,
       uniqExact(visitor_key), uniqExact(visitor_key, session_id, sess),
       sum(pv), sum(ev), sum(bounce), sum(dur), sum(eng), toUInt8(@partial), toUInt64(@version)
FROM ({{event_rows}})
GROUP BY win, dim, value;
