-- Writes the visit rows of the windows of one site in [@from, @to): each
-- visit's metrics and session values (rollup_frag_visit_metrics.sql) with
-- the event-dimension values its events had (rollup_frag_event_pairs.sql
-- for @dims, store.TouchedDimensions: "props:" stands for every key's
-- values), and what those hold, @touched_version (store.TouchedVersion).
-- The events (rollup_frag_scan_range.sql) are read once, without FINAL,
-- and sessionised without a join: the events of each (window, visitor
-- key, session id) are gathered into parallel arrays (the groupArrays of
-- one GROUP BY keep one order), the visit starts come from their sorted
-- times (rollup_frag_visit_starts.sql), and ARRAY JOIN hands every event
-- back with its visit number (rollup_frag_visit_number.sql): the events
-- fragment's rules. A replayed event not yet merged away is dropped there
-- instead of by FINAL: its copies (the same event sent again) share the
-- time, key and id FINAL collapses on, so they fall in one group, where
-- only the first (copy = 1) is kept. On 18.16 a FINAL over these wide rows
-- cost about six times a plain read of them (a day of the 1M month in
-- three parts: 0.13 against 0.022 CPU-s). Then one GROUP BY per visit
-- makes the metrics and gathers the pairs of its events
-- (groupArrayArray), which are summed per distinct (dimension, value)
-- inside the arrays: arrayEnumerateDense numbers the pairs in order of
-- first appearance, sumMap sums by that number (its keys ascend, as the
-- first occurrences arrayFilter keeps do), and the constant 1 column keeps
-- every key (current ClickHouse leaves out a key whose sums are all zero).
-- This replaced a join of the visits and event rows fragments, which read
-- the job's events six times (twice FINAL, twice for the visit starts,
-- twice for the GPC list; issue #15). A GROUP BY of (visit, dimension,
-- value) made nearly as many groups as rows and cost twice as much (1M
-- events: 1.6M rows, 1.38M groups). The session dimension lists are
-- expanded from store.Dimensions at start-up. The caller has deleted the
-- windows' earlier rows.
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
       arrayFilter((x, u) -> u = 1, dims, arrayEnumerateUniq(dims, vals)) AS t_dims,
       arrayFilter((x, u) -> u = 1, vals, arrayEnumerateUniq(dims, vals)) AS t_values,
       tupleElement(arrayReduce('sumMap', [arrayEnumerateDense(dims, vals)], [arrayResize(emptyArrayUInt64(), length(dims), toUInt64(1))],
                                [pvs], [evs], [engs]) AS sums, 3),
       sums.4, sums.5, toUInt8(@touched_version), toUInt8(@partial), toUInt64(@version)
FROM
(
    SELECT win, visitor_key, session_id, sess, {{visit_metrics}},
           groupArrayArray(p_dims) AS dims, groupArrayArray(p_values) AS vals,
           groupArrayArray(arrayResize(emptyArrayUInt64(), length(p_dims), toUInt64(etype = 'pageview'))) AS pvs,
           groupArrayArray(arrayResize(emptyArrayUInt64(), length(p_dims), toUInt64(etype IN ('click', 'event')))) AS evs,
           groupArrayArray(p_engs) AS engs
    FROM
    (
        SELECT win, visitor_key, session_id, t, k, etype, engaged_ms, p_dims, p_values, p_engs,[[range .Columns]] c_[[.]],[[end]]
               {{visit_number}} AS sess
        FROM
        (
            SELECT win, visitor_key, session_id,
                   groupArray(t) AS a_t, groupArray(k) AS a_k, groupArray(etype) AS a_etype, groupArray(engaged_ms) AS a_engaged_ms,
                   groupArray(p_dims) AS a_p_dims, groupArray(p_values) AS a_p_values, groupArray(p_engs) AS a_p_engs,[[range .Columns]]
                   groupArray(c_[[.]]) AS a_[[.]],[[end]]
                   arrayEnumerateUniq(groupArray(event_id), a_t) AS a_copy,
                   arraySort(a_t) AS tss, {{visit_starts}} AS starts
            FROM
            (
                -- A goal's revenue counts its amount where the others
                -- count engaged time, as in the event rows fragment.
                SELECT win, visitor_key, session_id, t, k, etype, engaged_ms,[[range .Columns]] c_[[.]],[[end]] event_id,
                       arrayMap(d -> d.1, pairs) AS p_dims, arrayMap(d -> d.2, pairs) AS p_values,
                       arrayMap((d, r, e) -> if(d.1 = 'goal_revenue', r, e), pairs,
                                arrayResize(emptyArrayUInt64(), length(pairs), revenue_amount),
                                arrayResize(emptyArrayUInt64(), length(pairs), toUInt64(engaged_ms))) AS p_engs
                FROM
                (
                    SELECT win, visitor_key, session_id, t, k, etype, engaged_ms, revenue_amount,[[range .Columns]] c_[[.]],[[end]]
                           event_id, {{event_pairs}} AS pairs
                    FROM (SELECT {{scan_columns}}, event_id FROM events WHERE {{scan_range}})
                )
            )
            GROUP BY win, visitor_key, session_id
        )
        ARRAY JOIN a_t AS t, a_k AS k, a_etype AS etype, a_engaged_ms AS engaged_ms,
                   a_p_dims AS p_dims, a_p_values AS p_values, a_p_engs AS p_engs[[range .Columns]], a_[[.]] AS c_[[.]][[end]],
                   a_copy AS copy
        WHERE copy = 1
    )
    GROUP BY win, visitor_key, session_id, sess
)
