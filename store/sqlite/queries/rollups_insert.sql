-- Aggregates the windows of one site into the rollup stage; the caller
-- publishes the stage (rollups_publish.sql).
WITH {{rows}}
INSERT INTO temp.rollups_stage (
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT :site, :granularity, win, dim, val,
       COUNT(DISTINCT visitor_key), COUNT(DISTINCT visitor_key || ':' || session_id || ':' || sess),
       SUM(pv), SUM(ev), SUM(bounce), SUM(dur), SUM(eng), :partial, :version
FROM rollup_rows
GROUP BY win, dim, val
