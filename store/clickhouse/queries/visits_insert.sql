-- Writes the visit rows of the windows of one site in [@from, @to): the
-- rollup fragments' visits (event_rows: one row per event and event
-- dimension, so every event is in exactly one page row), grouped first by
-- visit and value, then by visit. A visit is described by its first event
-- (exit page: its last) as the session rollups describe it: the page group
-- holding the visit's first event has the smallest first_k. The session
-- dimension lists are expanded from store.Dimensions at start-up. The
-- caller has deleted the windows' earlier rows.
INSERT INTO visits
(
    site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session_dims, session_values,
    touched_dims, touched_values, touched_pageviews, touched_events, touched_engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'),
       visitor_key, session_id, toUInt32(sess), toDateTime(minIf(first_t, dim = 'page'), 'UTC'),
       sumIf(pv, dim = 'page') AS v_pv, sumIf(ev, dim = 'page') AS v_ev, toUInt8(v_pv = 1 AND v_ev = 0),
       toUInt64(maxIf(last_t, dim = 'page') - minIf(first_t, dim = 'page')), sumIf(eng, dim = 'page'),
       array([[range $i, $d := .Session]][[if $i]], [[end]]'[[$d.Name]]'[[end]]),
       array([[range $i, $d := .Session]][[if $i]], [[end]][[if $d.Last]]argMaxIf(s_[[$d.Name]], last_k, dim = 'page')[[else]]argMinIf(s_[[$d.Name]], first_k, dim = 'page')[[end]][[end]]),
       groupArray(dim), groupArray(value), groupArray(pv), groupArray(ev), groupArray(eng),
       toUInt8(@partial), toUInt64(@version)
FROM
(
    SELECT win, visitor_key, session_id, sess, dim, value,
           min(k) AS first_k, max(k) AS last_k, min(t) AS first_t, max(t) AS last_t,
           sum(pv) AS pv, sum(ev) AS ev, sum(eng) AS eng[[range .Session]],
           [[if .Last]]argMax[[else]]argMin[[end]](c_[[.Column]], k) AS s_[[.Name]][[end]]
    FROM ({{event_rows}})
    GROUP BY win, visitor_key, session_id, sess, dim, value
)
GROUP BY win, visitor_key, session_id, sess;
