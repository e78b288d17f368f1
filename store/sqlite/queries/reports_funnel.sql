-- A funnel without filters (store.FilteredBreakdownQuery with DimFunnel
-- and only the filter funnel~"", every visit that reached step 1): per
-- window of :windows and step, the visitors and visits that reached it in
-- order, as reports_filtered_breakdown.sql answers, without sessionising
-- every event with the rows fragment: visits are split as that fragment
-- splits them (a session id is one visit per window, sess 0; events
-- without one are split by 1800 s of inactivity per visitor key, sess
-- counting the breaks), but only the events without a session id go
-- through the window functions, and only the events' columns a goal reads
-- are carried, read with the keys (reports_funnel_columns.sql in the
-- events fragment's period_columns slot). The same conformance cases
-- (storetest.RunFunnels) check both.
WITH {{period_events}},
dims AS (
    SELECT 'funnel' AS dim
),
-- The events without a session id, MATERIALIZED: read inside the window
-- pass's subquery, SQLite (3.54) reads the range through the index, not
-- with the one sequential scan it picks here (2.2 s of CPU at 1M events
-- against 0.6 s, for no row in the benchmark's month).
ev0 AS MATERIALIZED (
    SELECT * FROM ev WHERE session_id = 0
),
-- A visit with a session id needs none of its events but those that may
-- reach a goal (a pageview of a goal's path, a click or custom event of a
-- goal's name; goal_hits tests the rest): only those are carried on,
-- two fifths of the events in the benchmark's month.
numbered AS (
    SELECT win, visitor_key, session_id, 0 AS sess, k, etype, path, name, props, engaged_ms, revenue_amount, revenue_currency
    FROM ev
    WHERE session_id != 0
      AND (etype = 'pageview' AND path IN (SELECT p.value FROM json_each(:goals) g JOIN json_each(g.value, '$[2]') p
                                           WHERE json_extract(g.value, '$[1]') = 'page')
           OR etype IN ('click', 'event') AND name IN (SELECT json_extract(value, '$[3]') FROM json_each(:goals)
                                                        WHERE json_extract(value, '$[1]') != 'page'))
    UNION ALL
    SELECT win, visitor_key, session_id, SUM(brk) OVER w AS sess, k, etype, path, name, props, engaged_ms, revenue_amount, revenue_currency
    FROM (
        SELECT *, CASE WHEN ts - LAG(ts) OVER (PARTITION BY win, visitor_key, session_id ORDER BY k, event_id) <= 1800 THEN 0
                       ELSE 1 END AS brk
        FROM ev0
    )
    WINDOW w AS (PARTITION BY win, visitor_key, session_id ORDER BY k, event_id ROWS UNBOUNDED PRECEDING)
),
{{goal_hits}},
{{funnel_steps}}
SELECT win, CAST(j + 1 AS TEXT), COUNT(DISTINCT visitor_key), COUNT(DISTINCT visitor_key || ':' || session_id || ':' || sess),
       0, 0, 0, 0, 0
FROM freach
WHERE k IS NOT NULL
GROUP BY win, j
