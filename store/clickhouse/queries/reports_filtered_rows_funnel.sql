-- The funnel rows reports_filtered_breakdown.sql reads ({{visit_rows}})
-- (store.DimFunnel): per visit, one row valued '1', '2', … for each step
-- of the funnel it reached in order. @fsteps are the steps' goals, as
-- indices into @gnames (goalArgs). Each event gets a mask of the steps
-- whose goal it reached (bit j-1: step j); per visit, t1 is the order key
-- k of the first event that reached step 1, and tj the first k after
-- t(j-1) of an event that reached step j (0: not reached, and then no
-- later step is): the earliest match is the one that leaves the most
-- events for the later steps, so this is the furthest step reached in
-- order. Events of one second and type share k and are not in order, so
-- one of them reaches at most one step. Eight steps are spelled out
-- (store.MaxFunnelSteps); steps a funnel does not have have no bit. The
-- arrayResize hands t(j-1) to the lambda as an argument, and the WHERE
-- names etype, path, name and the props outside the lambdas (a condition
-- always true but for the type): 18.16 drops columns a subquery uses only
-- inside one.
SELECT win, visitor_key, session_id, sess,
       materialize(toUInt64(0)) AS pv, materialize(toUInt64(0)) AS ev, materialize(toUInt64(0)) AS bounce,
       materialize(toUInt64(0)) AS dur, materialize(toUInt64(0)) AS eng, materialize('funnel') AS dim, toString(j + 1) AS value
FROM
(
    SELECT win, visitor_key, session_id, sess,
           arrayReduce('min', arrayFilter((x, m) -> bitAnd(m, 1) != 0, ks, ms)) AS t1,
           if(t1 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 2) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t1)))) AS t2,
           if(t2 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 4) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t2)))) AS t3,
           if(t3 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 8) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t3)))) AS t4,
           if(t4 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 16) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t4)))) AS t5,
           if(t5 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 32) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t5)))) AS t6,
           if(t6 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 64) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t6)))) AS t7,
           if(t7 = 0, toUInt64(0), arrayReduce('min', arrayFilter((x, m, p) -> bitAnd(m, 128) != 0 AND x > p, ks, ms, arrayResize(emptyArrayUInt64(), length(ks), t7)))) AS t8,
           toUInt64((t1 > 0) + (t2 > 0) + (t3 > 0) + (t4 > 0) + (t5 > 0) + (t6 > 0) + (t7 > 0) + (t8 > 0)) AS reached
    FROM
    (
        SELECT win, visitor_key, session_id, sess, groupArray(k) AS ks, groupArray(m) AS ms
        FROM
        (
            SELECT win, visitor_key, session_id, sess, k,
                   arraySum(arrayMap((j, g) -> if(has(hits, g), bitShiftLeft(toUInt64(1), toUInt64(j - 1)), toUInt64(0)),
                                     arrayEnumerate(@fsteps), @fsteps)) AS m,
                   {{goal_hits}}
                   AS hits
            FROM ({{events}})
            WHERE m != 0
              AND etype IN ('pageview', 'click', 'event') AND length(path) + length(name) + length(prop_keys) + length(prop_values) >= 0
        )
        GROUP BY win, visitor_key, session_id, sess
    )
)
ARRAY JOIN range(reached) AS j
