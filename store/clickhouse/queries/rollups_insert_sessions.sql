-- Aggregates the session dimensions of the windows of one site in
-- [@from, @to) into rollups, all in ClickHouse (the raw events never leave
-- the server): one row per visit and dimension, so visits are a count. The
-- caller has deleted the windows' earlier rows.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'), dim, value,
       uniqExact(visitor_key), count(),
       sum(pv), sum(ev), sum(bounce), sum(dur), sum(eng), toUInt8(@partial), toUInt64(@version)
FROM ({{session_rows}})
GROUP BY win, dim, value;
