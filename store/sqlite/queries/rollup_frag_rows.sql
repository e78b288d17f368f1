-- Fragment: common table expressions ending in "rollup_rows", one row per
-- visit and session dimension and per event and event dimension in :dims,
-- for the events of :site in :windows (a JSON array of [start, end) pairs
-- in Unix seconds) within [:from, :to), bots left out, and with
-- :exclude_gpc = 1 every visitor key that had GPC on in the range. The rules
-- are those of the ClickHouse fragments of the same names: visits by session
-- id, else by 1800 s of inactivity per visitor key, cut at window edges;
-- events ordered by time, type (pageview first) and id; a visit described
-- by its first event and, for exit_page, its last (is_first: the event
-- that opens a visit; is_last: the one before the next break or the end,
-- found in the one window pass that numbers the visits, so describing a
-- visit takes no sort of its own). E-mail events
-- (email_open, email_click) are no part of any visit: they have their own
-- rows (rollups_insert_email.sql). The per-dimension lists are expanded at start-up
-- from store.Dimensions (store.ExpandDimensions): one column per session
-- dimension. Custom properties (store.PropDimension) are event rows too:
-- dimension 'props' with each key an event has, 'props:KEY' with its value
-- of KEY (every key's when :dims holds "props:", as the visit rows take
-- them; events whose value is empty have none).
-- Broken URLs (dimension 'not_found', store.DimNotFound) are the paths of
-- the clicks and custom events named 404.
-- Goals (dimension 'goal', store.DimGoal) are event rows with the name of
-- each goal of :goals (a JSON array, per goal: name, 'page' or 'event',
-- paths, event name and key-value pairs; unbound, none) the event reached: a
-- pageview of one of the paths, or a click or custom event of the name
-- with every one of the props (goal_hits: the events that reached each
-- goal, which funnels read too, in their order k). Goal revenue
-- (dimension 'goal_revenue', store.DimGoalRevenue) is a row per goal and
-- event that reached it with revenue: value "GOAL;CURRENCY", one event,
-- and the amount in eng, which a click or custom event has no other use for.
-- Scroll depth (dimension 'scroll_depth', store.DimScrollDepth) is a row
-- per visit and page whose engagement events reported a depth: one event
-- and the deepest depth in eng (each engagement event carries its page
-- view's deepest so far; a page viewed twice in one visit counts once).
{{period_events}},
dims AS (
    SELECT value AS dim FROM json_each(:dims)
),
-- The two window passes sort only the keys of the events (gaps,
-- numbered_keys); numbered reads the rest of each event by its rowid after
-- them, once: MATERIALIZED, or SQLite (3.54) flattens it into each of its
-- uses below and reads the events again for each.
-- The keys are read first (evk), MATERIALIZED: read inside the first
-- window pass's subquery, a range that holds most of the table is read
-- through the index by SQLite (3.54), not with the sequential scan it
-- picks here (a funnel under country==DE at 1M events: 5.4-5.7 s of CPU
-- against 7.2-7.5 s). One day's ReplaceRollups takes the same time either
-- way, within the noise of a loaded machine.
evk AS MATERIALIZED (
    SELECT * FROM ev
),
gaps AS (
    SELECT win, rid, visitor_key, session_id, ts, event_id, k,
           CASE WHEN session_id != 0 THEN 0
                WHEN ts - LAG(ts) OVER (PARTITION BY win, visitor_key, session_id ORDER BY k, event_id) <= 1800 THEN 0
                ELSE 1 END AS brk
    FROM evk
),
numbered_keys AS (
    SELECT *, SUM(brk) OVER w AS sess,
           brk = 1 OR ROW_NUMBER() OVER w = 1 AS is_first,
           LEAD(brk, 1, 1) OVER w = 1 AS is_last
    FROM gaps
    WINDOW w AS (PARTITION BY win, visitor_key, session_id ORDER BY k, event_id ROWS UNBOUNDED PRECEDING)
),
numbered AS MATERIALIZED (
    SELECT n.win, n.visitor_key, n.session_id, n.ts, n.event_id, n.k, n.brk, n.sess, n.is_first, n.is_last,
           e.type AS etype,[[range .Columns]] e.[[.]],[[end]] e.name, e.target, e.props, e.engaged_ms,
           e.revenue_amount, e.revenue_currency, e.scroll_depth
    FROM numbered_keys n JOIN events e ON e.rowid = n.rid
),
{{goal_hits}},
sessions AS (
    SELECT win, visitor_key, session_id, sess,
           SUM(etype = 'pageview') AS pv,
           SUM(etype IN ('click', 'event')) AS ev,
           CASE WHEN SUM(etype = 'pageview') = 1 AND SUM(etype IN ('click', 'event')) = 0 THEN 1 ELSE 0 END AS bounce,
           MIN(ts) AS t0, MAX(ts) - MIN(ts) AS dur, SUM(engaged_ms) AS eng[[range .Session]],
           MIN(CASE WHEN [[if .Last]]is_last[[else]]is_first[[end]] THEN [[.Column]] END) AS s_[[.Name]][[end]]
    FROM numbered
    GROUP BY win, visitor_key, session_id, sess
),
rollup_rows AS (
    SELECT s.win, s.visitor_key, s.session_id, s.sess, s.pv, s.ev,
           s.bounce, s.dur, s.eng, d.dim,
           CASE d.dim WHEN '' THEN ''[[range .Session]]
                      WHEN '[[.Name]]' THEN s.s_[[.Name]][[end]] END AS val
    FROM sessions s
    JOIN dims d ON d.dim IN (''[[range .Session]], '[[.Name]]'[[end]])
    UNION ALL
    SELECT n.win, n.visitor_key, n.session_id, n.sess, n.etype = 'pageview' AS pv,
           n.etype IN ('click', 'event') AS ev, 0 AS bounce, 0 AS dur, n.engaged_ms AS eng, d.dim,
           CASE d.dim WHEN 'page' THEN n.path WHEN 'event_name' THEN n.name WHEN 'not_found' THEN n.path ELSE n.target END AS val
    FROM numbered n
    JOIN dims d ON d.dim IN ('page', 'event_name', 'event_target', 'not_found')
    WHERE d.dim = 'page' OR (CASE d.dim WHEN 'event_name' THEN n.name WHEN 'not_found' THEN n.path ELSE n.target END) != ''
      AND (d.dim != 'not_found' OR n.name = '404' AND n.etype IN ('click', 'event'))
    UNION ALL
    SELECT n.win, n.visitor_key, n.session_id, n.sess, n.etype = 'pageview' AS pv,
           n.etype IN ('click', 'event') AS ev, 0 AS bounce, 0 AS dur, n.engaged_ms AS eng,
           CASE d.dim WHEN 'props' THEN 'props' ELSE 'props:' || json_extract(p.value, '$[0]') END AS dim,
           CASE d.dim WHEN 'props' THEN json_extract(p.value, '$[0]') ELSE json_extract(p.value, '$[1]') END AS val
    FROM numbered n
    JOIN json_each(n.props) p
    JOIN dims d ON d.dim IN ('props', 'props:', 'props:' || json_extract(p.value, '$[0]'))
    WHERE n.props != '[]' AND json_extract(p.value, '$[1]') != ''
    UNION ALL
    SELECT win, visitor_key, session_id, sess, etype = 'pageview' AS pv,
           etype IN ('click', 'event') AS ev, 0 AS bounce, 0 AS dur, engaged_ms AS eng, 'goal' AS dim, goal AS val
    FROM goal_hits
    WHERE EXISTS (SELECT 1 FROM dims WHERE dim = 'goal')
    UNION ALL
    SELECT win, visitor_key, session_id, sess, 0 AS pv, 1 AS ev, 0 AS bounce, 0 AS dur,
           revenue_amount AS eng, 'goal_revenue' AS dim, goal || ';' || revenue_currency AS val
    FROM goal_hits
    WHERE EXISTS (SELECT 1 FROM dims WHERE dim = 'goal_revenue') AND revenue_currency != ''
    UNION ALL
    SELECT win, visitor_key, session_id, sess, 0 AS pv, 1 AS ev, 0 AS bounce, 0 AS dur,
           MAX(scroll_depth) AS eng, 'scroll_depth' AS dim, path AS val
    FROM numbered
    WHERE EXISTS (SELECT 1 FROM dims WHERE dim = 'scroll_depth') AND etype = 'engagement' AND scroll_depth > 0
    GROUP BY win, visitor_key, session_id, sess, path
)
