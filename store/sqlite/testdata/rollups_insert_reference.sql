-- The rollups of the staged visit rows and their values, as the
-- aggregation made them in SQL before stageVisits summed them in Go
-- (TestStageVisitsMatchesRowsFragment holds the two to the same rows).
-- Aggregates the staged visit rows and their values into the rollup stage, per window and value of
-- each dimension in :dims: the totals and session dimensions one row per
-- visit (its value, its metrics), the event dimensions one row per value a
-- visit touched (the pageviews, events and engaged time of those events;
-- bounces and duration are the visit's, so zero here). Visits are a count:
-- a visit has one value of a session dimension and touches a value once.
-- The caller publishes the stage (rollups_publish.sql).
INSERT INTO temp.rollups_stage (
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT :site, :granularity, win, dim, val,
       COUNT(DISTINCT visitor_key), COUNT(*), SUM(pv), SUM(ev), SUM(bounce), SUM(dur), SUM(eng), :partial, :version
FROM (
    SELECT v.window_start AS win, v.visitor_key, v.pageviews AS pv, v.events AS ev, v.bounce, v.duration_s AS dur,
           v.engaged_ms AS eng, '' AS dim, '' AS val
    FROM temp.visits_stage v
    UNION ALL
    SELECT v.window_start, v.visitor_key, v.pageviews, v.events, v.bounce, v.duration_s, v.engaged_ms, j.key, j.value
    FROM temp.visits_stage v, json_each(v.session) j
    UNION ALL
    SELECT v.window_start, v.visitor_key, x.pageviews, x.events, 0, 0, x.engaged_ms, x.dimension, x.value
    FROM temp.visit_values_stage x JOIN temp.visits_stage v ON v.id = x.visit_id
)
WHERE dim IN (SELECT value FROM json_each(:dims))
GROUP BY win, dim, val
