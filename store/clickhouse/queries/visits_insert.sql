-- Writes the visit rows of the windows of one site in [@from, @to): the
-- rollup fragments' visits (the visits fragment: metrics and session
-- values), each with the event-dimension values its events had
-- (event_rows of @dims, store.TouchedDimensions: "props:" stands for every
-- key's values; summed per visit and value, then gathered per visit), and
-- what those hold, @touched_version (store.TouchedVersion). Every
-- visit has a page row, so the inner join keeps every visit. The session
-- dimension lists are expanded from store.Dimensions at start-up. The
-- caller has deleted the windows' earlier rows.
INSERT INTO visits
(
    site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session_dims, session_values,
    touched_dims, touched_values, touched_pageviews, touched_events, touched_engaged_ms, touched_version, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'),
       visitor_key, session_id, toUInt32(sess), toDateTime(t0, 'UTC'), pv, ev, toUInt8(bounce), dur, eng,
       array([[range $i, $d := .Session]][[if $i]], [[end]]'[[$d.Name]]'[[end]]),
       array([[range $i, $d := .Session]][[if $i]], [[end]]s_[[$d.Name]][[end]]),
       t_dims, t_values, t_pv, t_ev, t_eng, toUInt8(@touched_version), toUInt8(@partial), toUInt64(@version)
FROM ({{visits}})
ANY INNER JOIN
(
    SELECT win, visitor_key, session_id, sess, groupArray(dim) AS t_dims, groupArray(value) AS t_values,
           groupArray(v_pv) AS t_pv, groupArray(v_ev) AS t_ev, groupArray(v_eng) AS t_eng
    FROM
    (
        SELECT win, visitor_key, session_id, sess, dim, value, sum(pv) AS v_pv, sum(ev) AS v_ev, sum(eng) AS v_eng
        FROM ({{event_rows}})
        GROUP BY win, visitor_key, session_id, sess, dim, value
    )
    GROUP BY win, visitor_key, session_id, sess
) USING (win, visitor_key, session_id, sess);
