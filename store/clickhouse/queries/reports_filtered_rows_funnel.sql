-- The funnel rows reports_filtered_breakdown.sql reads ({{visit_rows}})
-- (store.DimFunnel): per visit, one row valued '1', '2', … for each step
-- of the funnel it reached in order. reports.go expands the placeholders in
-- capitals for the funnel's number of steps n: {{STEP_MASK}} is each
-- event's mask of the steps whose goal it reached (bit j-1: step j; the sum
-- over j of reports_funnel_step.sql times 2^(j-1)); {{STEP_TIMES}} gives per
-- visit tj (reports_funnel_step_time.sql), the first order key k after
-- t(j-1) of an event that reached step j (t0 is 1, below every k; tj is 0
-- when step j is not reached, and then no later step is); {{STEP_REACHED}}
-- counts the tj above 0. The earliest match is the one that leaves the most events for the
-- later steps, so this is the furthest step reached in order. Events of
-- one second and type share k and are not in order, so one of them reaches
-- at most one step. The arrayResize hands t(j-1) to the lambda as an
-- argument, and the WHERE names etype, path, name and the props outside
-- the lambdas (a condition always true but for the type): 18.16 drops
-- columns a subquery uses only inside one. The constants are
-- materialized: 18.16 refuses a constant in one part of a UNION ALL and a
-- column in another.
SELECT win, visitor_key, session_id, sess,
       materialize(toUInt64(0)) AS pv, materialize(toUInt64(0)) AS ev, materialize(toUInt64(0)) AS bounce,
       materialize(toUInt64(0)) AS dur, materialize(toUInt64(0)) AS eng, materialize('funnel') AS dim, toString(j + 1) AS value
FROM
(
    SELECT win, visitor_key, session_id, sess, toUInt64(1) AS t0,
           {{STEP_TIMES}}
           {{STEP_REACHED}} AS reached
    FROM
    (
        SELECT win, visitor_key, session_id, sess, groupArray(k) AS ks, groupArray(m) AS ms
        FROM
        (
            SELECT win, visitor_key, session_id, sess, k, {{STEP_MASK}} AS m
            FROM ({{events}})
            WHERE m != 0
              AND etype IN ('pageview', 'click', 'event') AND length(path) + length(name) + length(prop_keys) + length(prop_values) >= 0
        )
        GROUP BY win, visitor_key, session_id, sess
    )
)
ARRAY JOIN range(reached) AS j
