-- Fragment: one row per visit and session dimension in @dims (the totals
-- are the dimension ''), with the visit's pageviews, events, bounce (one
-- pageview, no other events), duration and engaged time. A visit is
-- described by its first event, its exit page by its last.
SELECT win, visitor_key, session_id, sess, pv, ev, bounce, dur, eng, d.1 AS dim, d.2 AS value
FROM
(
    SELECT win, visitor_key, session_id, sess,
           countIf(etype = 'pageview') AS pv,
           countIf(etype IN ('click', 'event')) AS ev,
           toUInt64(pv = 1 AND ev = 0) AS bounce,
           toUInt64(max(t) - min(t)) AS dur,
           sum(toUInt64(engaged_ms)) AS eng,
           argMin(path, k) AS entry, argMax(path, k) AS exit_path,
           argMin(ref, k) AS s_ref, argMin(src, k) AS s_src,
           argMin(usrc, k) AS s_usrc, argMin(umed, k) AS s_umed, argMin(ucamp, k) AS s_ucamp,
           argMin(ctry, k) AS s_ctry, argMin(reg, k) AS s_reg, argMin(cty, k) AS s_cty,
           argMin(dev, k) AS s_dev, argMin(brw, k) AS s_brw, argMin(osn, k) AS s_os
    FROM ({{events}})
    GROUP BY win, visitor_key, session_id, sess
)
ARRAY JOIN
    [('', ''), ('entry_page', entry), ('exit_page', exit_path), ('referrer_host', s_ref), ('source', s_src),
     ('utm_source', s_usrc), ('utm_medium', s_umed), ('utm_campaign', s_ucamp), ('country', s_ctry),
     ('region', s_reg), ('city', s_cty), ('device', s_dev), ('browser', s_brw), ('os', s_os)] AS d
WHERE has(@dims, d.1)
