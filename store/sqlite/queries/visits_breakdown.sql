-- Metrics per bucket and value of :bdim over the visit rows of one site and
-- granularity whose window starts in [:from, :to) and that match every
-- filter of :filters, a JSON array of [dimension, operator, value, session]
-- (store.VisitQuery; session is 1 for a session dimension, 2 for the
-- goals). A filter fails
-- a visit when its hit (the session value, or one of the touched values of
-- that dimension, that is or contains the filter's value:
-- rollup_frag_visit_filter_hit.sql; for the goals, below) is there for
-- "!=" or missing for "==" and "~"; a visit matches when no filter fails
-- it. :bkind says what :bdim is: 0 the totals, 1 a session dimension (the
-- visit's value, its metrics), 2 an event dimension (each touched value
-- with its own pageviews, events and engaged time; bounces and duration
-- zero, as in the rollups), 3 the goals (store.DimGoal: each goal the
-- visit reached, with the pageviews or events it reached it by). A
-- window belongs to the last of :buckets (Unix seconds) at or before it.
-- The goals (store.VisitQuery.Goals) come as :goal_keys, a JSON array of
-- [goal, dimension, value]: a page goal's paths (dimension page), an
-- event goal's name (event_name); a visit reached a goal when it touched
-- one of its keys with a pageview (page) or a click or custom event
-- (event_name). filters, buckets and goal_keys are MATERIALIZED: read in
-- the correlated subqueries below, each would otherwise parse its JSON
-- again for every visit row (most of the query's time at 1M events).
WITH filters AS MATERIALIZED (
    SELECT json_extract(value, '$[0]') AS fdim, json_extract(value, '$[1]') AS fop,
           json_extract(value, '$[2]') AS fval, json_extract(value, '$[3]') AS fsession
    FROM json_each(:filters)
),
buckets AS MATERIALIZED (
    SELECT value AS b FROM json_each(:buckets)
),
goal_keys AS MATERIALIZED (
    SELECT json_extract(value, '$[0]') AS gname, json_extract(value, '$[1]') AS kdim, json_extract(value, '$[2]') AS kval
    FROM json_each(:goal_keys)
),
matched AS (
    SELECT v.id, v.visitor_key, v.session, v.pageviews, v.events, v.bounce, v.duration_s, v.engaged_ms,
           (SELECT MAX(b) FROM buckets WHERE b <= v.window_start) AS bucket
    FROM visits v
    WHERE v.site_id = :site AND v.granularity = :granularity AND v.window_start >= :from AND v.window_start < :to
      AND NOT EXISTS (
          SELECT 1 FROM filters f
          WHERE (f.fop = '!=') = (CASE WHEN f.fsession = 2 THEN EXISTS (
                    SELECT 1 FROM goal_keys k JOIN visit_values x ON x.visit_id = v.id AND x.dimension = k.kdim AND x.value = k.kval
                    WHERE CASE k.kdim WHEN 'page' THEN x.pageviews ELSE x.events END > 0
                      AND CASE f.fop WHEN '~' THEN instr(lower(k.gname), lower(f.fval)) > 0 ELSE k.gname = f.fval END)
                ELSE {{visit_filter_hit}} END)
      )
),
picked AS (
    SELECT bucket, visitor_key, id, '' AS val, pageviews AS pv, events AS ev, bounce, duration_s AS dur, engaged_ms AS eng
    FROM matched WHERE :bkind = 0
    UNION ALL
    SELECT bucket, visitor_key, id, COALESCE(json_extract(session, '$.' || :bdim), ''), pageviews, events, bounce, duration_s, engaged_ms
    FROM matched WHERE :bkind = 1
    UNION ALL
    SELECT m.bucket, m.visitor_key, m.id, x.value, x.pageviews, x.events, 0, 0, x.engaged_ms
    FROM matched m JOIN visit_values x ON x.visit_id = m.id AND x.dimension = :bdim
    WHERE :bkind = 2
    UNION ALL
    SELECT m.bucket, m.visitor_key, m.id, k.gname,
           SUM(CASE k.kdim WHEN 'page' THEN x.pageviews ELSE 0 END), SUM(CASE k.kdim WHEN 'page' THEN 0 ELSE x.events END), 0, 0, 0
    FROM matched m JOIN visit_values x ON x.visit_id = m.id JOIN goal_keys k ON x.dimension = k.kdim AND x.value = k.kval
    WHERE :bkind = 3
    GROUP BY m.id, k.gname
    HAVING SUM(CASE k.kdim WHEN 'page' THEN x.pageviews ELSE x.events END) > 0
)
SELECT bucket, val, COUNT(DISTINCT visitor_key), COUNT(*), SUM(pv), SUM(ev), SUM(bounce), SUM(dur), SUM(eng)
FROM picked
GROUP BY bucket, val
