-- Writes the visit rows of the windows of one site in [@from, @to): the
-- rollup fragments' visits (the visits fragment: metrics and session
-- values), each with the event-dimension values its events had
-- (event_rows of @dims, store.TouchedDimensions: "props:" stands for every
-- key's values), and what those hold, @touched_version
-- (store.TouchedVersion). The event rows are gathered per visit in one
-- GROUP BY and summed per distinct (dimension, value) inside the visit's
-- arrays: arrayEnumerateDense numbers the pairs in order of first
-- appearance, sumMap sums by that number (its keys ascend, as the first
-- occurrences arrayFilter keeps do), and the constant 1 column keeps every
-- key (current ClickHouse leaves out a key whose sums are all zero). A
-- GROUP BY of (visit, dimension, value) first made nearly as many groups as
-- rows and cost twice as much (1M events: 1.6M rows, 1.38M groups).
-- Every visit has a page row, so the inner join keeps every visit. The
-- session dimension lists are expanded from store.Dimensions at start-up.
-- The caller has deleted the windows' earlier rows.
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
    SELECT win, visitor_key, session_id, sess,
           arrayFilter((x, u) -> u = 1, dims, arrayEnumerateUniq(dims, vals)) AS t_dims,
           arrayFilter((x, u) -> u = 1, vals, arrayEnumerateUniq(dims, vals)) AS t_values,
           arrayReduce('sumMap', [arrayEnumerateDense(dims, vals)], [arrayResize(emptyArrayUInt64(), length(dims), toUInt64(1))],
                       [pvs], [evs], [engs]) AS sums,
           sums.3 AS t_pv, sums.4 AS t_ev, sums.5 AS t_eng
    FROM
    (
        SELECT win, visitor_key, session_id, sess, groupArray(dim) AS dims, groupArray(value) AS vals,
               groupArray(pv) AS pvs, groupArray(ev) AS evs, groupArray(eng) AS engs
        FROM ({{event_rows}})
        GROUP BY win, visitor_key, session_id, sess
    )
) USING (win, visitor_key, session_id, sess);
