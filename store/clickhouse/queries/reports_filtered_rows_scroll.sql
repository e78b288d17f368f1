-- The scroll rows reports_filtered_breakdown.sql reads ({{visit_rows}}):
-- dimension 'scroll_depth' (store.DimScrollDepth), one row per visit and
-- page whose engagement events reported a scroll depth, with one event and
-- the deepest depth they reported in eng. Each engagement event carries
-- its page view's deepest scroll so far, so the largest is the page
-- view's; a page viewed twice in one visit counts once, at its deepest.
SELECT win, visitor_key, session_id, sess, toUInt64(0) AS pv, toUInt64(1) AS ev, toUInt64(0) AS bounce, toUInt64(0) AS dur,
       toUInt64(max(scroll_depth)) AS eng, 'scroll_depth' AS dim, path AS value
FROM ({{events}})
WHERE etype = 'engagement' AND scroll_depth > 0
GROUP BY win, visitor_key, session_id, sess, path
