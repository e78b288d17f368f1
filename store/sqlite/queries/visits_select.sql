-- The visit rows of one site and granularity whose window starts in
-- [:from, :to) (store.Visit), each with its touched values as a JSON array
-- of [dimension, value, pageviews, events, engaged_ms].
SELECT v.window_start, v.visitor_key, v.session_id, v.visit_start, v.pageviews, v.events, v.bounce,
       v.duration_s, v.engaged_ms, v.session, v.partial,
       (SELECT json_group_array(json_array(x.dimension, x.value, x.pageviews, x.events, x.engaged_ms))
        FROM visit_values x WHERE x.visit_id = v.id)
FROM visits v
WHERE v.site_id = :site AND v.granularity = :granularity AND v.window_start >= :from AND v.window_start < :to
ORDER BY v.window_start, v.visitor_key, v.session_id, v.visit_start
