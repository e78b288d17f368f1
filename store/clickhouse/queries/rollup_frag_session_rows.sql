-- Fragment: one row per visit and session dimension in @dims (the totals
-- are the dimension ''), with the visit's pageviews, events, bounce,
-- duration and engaged time (the visits fragment). One column per session
-- dimension, expanded from store.Dimensions at start-up.
SELECT win, visitor_key, session_id, sess, pv, ev, bounce, dur, eng, d.1 AS dim, d.2 AS value
FROM ({{visits}})
ARRAY JOIN
    [('', '')[[range .Session]], ('[[.Name]]', s_[[.Name]])[[end]]] AS d
WHERE has(@dims, d.1)
