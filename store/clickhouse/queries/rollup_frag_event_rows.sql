-- Fragment: one row per event of the events fragment and pair of
-- rollup_frag_event_pairs.sql (the dimensions in @dims), with the event's
-- pageview and event counts, and its engaged time, or for a goal's revenue
-- (dimension 'goal_revenue') its amount (a click or custom event has no
-- engaged time). Bounces and duration belong to visits, so they are zero
-- here.
SELECT win, visitor_key, session_id, sess,
       toUInt64(etype = 'pageview') AS pv,
       toUInt64(etype IN ('click', 'event')) AS ev,
       toUInt64(0) AS bounce, toUInt64(0) AS dur,
       if(d.1 = 'goal_revenue', revenue_amount, toUInt64(engaged_ms)) AS eng,
       d.1 AS dim, d.2 AS value
FROM ({{events}})
ARRAY JOIN {{event_pairs}} AS d
