-- Fragment: one row per visit and session dimension in @dims (the totals
-- are the dimension ''), with the visit's pageviews, events, bounce (one
-- pageview, no other events), duration and engaged time. A visit is
-- described by its first event, its exit page by its last. One column per
-- session dimension, expanded from store.Dimensions at start-up.
SELECT win, visitor_key, session_id, sess, pv, ev, bounce, dur, eng, d.1 AS dim, d.2 AS value
FROM
(
    SELECT win, visitor_key, session_id, sess,
           countIf(etype = 'pageview') AS pv,
           countIf(etype IN ('click', 'event')) AS ev,
           toUInt64(pv = 1 AND ev = 0) AS bounce,
           toUInt64(max(t) - min(t)) AS dur,
           sum(toUInt64(engaged_ms)) AS eng[[range .Session]],
           [[if .Last]]argMax[[else]]argMin[[end]](c_[[.Column]], k) AS s_[[.Name]][[end]]
    FROM ({{events}})
    GROUP BY win, visitor_key, session_id, sess
)
ARRAY JOIN
    [('', '')[[range .Session]], ('[[.Name]]', s_[[.Name]])[[end]]] AS d
WHERE has(@dims, d.1)
