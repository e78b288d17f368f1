-- Aggregates the event dimensions (page, event name and target) of the
-- windows of one site in [@from, @to) into rollups from the windows'
-- visit rows: per value, the visits that touched it (each once) and the
-- pageviews, events and engaged time of its events. Bounces and duration
-- belong to visits, so they are zero here.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), window_start, dim, value,
       uniqExact(visitor_key), count(), sum(pv), sum(ev), toUInt64(0), toUInt64(0), sum(eng), toUInt8(@partial), toUInt64(@version)
FROM visits
ARRAY JOIN touched_dims AS dim, touched_values AS value, touched_pageviews AS pv, touched_events AS ev, touched_engaged_ms AS eng
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
  AND has(@dims, dim)
GROUP BY window_start, dim, value;
