-- Aggregates the e-mail dimensions of the windows of one site into
-- rollups, as the ClickHouse query of the same name: per window, the opens
-- (email_open) and clicks (email_click) of each campaign and link, under
-- the value store.EmailValue computes; only events whose consent grants
-- marketing (bit 4); visitors, visits and the visit metrics zero.
WITH wins AS (
    SELECT json_extract(value, '$[0]') AS ws, json_extract(value, '$[1]') AS we FROM json_each(:windows)
)
INSERT INTO temp.rollups_stage (
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT :site, :granularity, w.ws, e.type,
       replace(replace(e.utm_campaign, '%', '%25'), '/', '%2F') || '/' || e.utm_content AS val,
       0, 0, 0, COUNT(*), 0, 0, 0, :partial, :version
-- The windows bound ts, not :from and :to (rollup_frag_period_events.sql says why).
FROM wins w JOIN events e ON e.ts >= w.ws AND e.ts < w.we
WHERE e.site_id = :site AND e.bot = 0
  AND e.type IN ('email_open', 'email_click') AND (e.consent & 4) != 0
  AND e.type IN (SELECT value FROM json_each(:dims))
GROUP BY w.ws, e.type, val
