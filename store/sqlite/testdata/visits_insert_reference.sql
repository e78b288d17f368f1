-- The visit rows of the rows fragment, as the aggregation staged them
-- before it cut visits in Go (stageVisits): TestStageVisitsMatchesRowsFragment
-- holds the two to the same rows. Stages the visit rows of the windows of
-- one site in one pass of the rows fragment: its visits (the sessions CTE), numbered from 1 in the stage,
-- each with the event-dimension values it touched (rollup_rows of :dims,
-- which holds the event dimensions only, store.TouchedDimensions: "props:"
-- stands for every key's values) and what those hold, :touched_version
-- (store.TouchedVersion), as a JSON array of [dimension,
-- value, pageviews, events, engaged_ms] in touched; visit_values_insert_reference.sql
-- spreads those into the stage's visit_values. Every visit has a page row,
-- so the join keeps every visit. The session dimensions are one JSON
-- object, expanded from store.Dimensions at start-up. The caller publishes
-- the stage (rollups_publish.sql).
WITH {{rows}},
touched AS (
    SELECT win, visitor_key, session_id, sess, json_group_array(json_array(dim, val, pv, ev, eng)) AS vals
    FROM (
        SELECT win, visitor_key, session_id, sess, dim, val, SUM(pv) AS pv, SUM(ev) AS ev, SUM(eng) AS eng
        FROM rollup_rows
        GROUP BY win, visitor_key, session_id, sess, dim, val
    )
    GROUP BY win, visitor_key, session_id, sess
)
INSERT INTO temp.visits_stage (
    id, site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session, touched_version, partial, run_version, touched
)
SELECT ROW_NUMBER() OVER (ORDER BY s.win, s.visitor_key, s.session_id, s.sess), :site, :granularity, s.win,
       s.visitor_key, s.session_id, s.sess, s.t0, s.pv, s.ev, s.bounce, s.dur, s.eng,
       json_object([[range $i, $d := .Session]][[if $i]], [[end]]'[[$d.Name]]', s.s_[[$d.Name]][[end]]),
       :touched_version, :partial, :version, t.vals
FROM sessions s
JOIN touched t ON t.win = s.win AND t.visitor_key = s.visitor_key AND t.session_id = s.session_id AND t.sess = s.sess
