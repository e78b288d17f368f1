-- Fragment: common table expressions ending in "goal_hits", the events of
-- "numbered" (win, visitor_key, session_id, sess, k, etype, path, name,
-- props, engaged_ms, revenue_amount, revenue_currency) that reached each
-- goal of :goals (see rollup_frag_rows.sql), when "dims" holds goal,
-- funnel or goal_revenue. The goals are parsed once (goal_defs,
-- goal_paths) and the events joined to them by path or event name; only
-- the events with a goal's name test its props.
goal_defs AS (
    SELECT json_extract(value, '$[0]') AS goal, json_extract(value, '$[1]') AS kind,
           json_extract(value, '$[3]') AS ename, json_extract(value, '$[4]') AS gprops, value AS def
    FROM json_each(:goals)
    WHERE EXISTS (SELECT 1 FROM dims WHERE dim IN ('goal', 'funnel', 'goal_revenue'))
),
goal_paths AS (
    SELECT d.goal, p.value AS path FROM goal_defs d JOIN json_each(d.def, '$[2]') p WHERE d.kind = 'page'
),
goal_hits AS (
    SELECT n.win, n.visitor_key, n.session_id, n.sess, n.k, n.etype, n.engaged_ms,
           n.revenue_amount, n.revenue_currency, g.goal
    FROM numbered n JOIN goal_paths g ON n.path = g.path
    WHERE n.etype = 'pageview'
    UNION ALL
    SELECT n.win, n.visitor_key, n.session_id, n.sess, n.k, n.etype, n.engaged_ms,
           n.revenue_amount, n.revenue_currency, g.goal
    FROM numbered n JOIN goal_defs g ON g.kind != 'page' AND n.name = g.ename
    WHERE n.etype IN ('click', 'event')
      AND NOT EXISTS (SELECT 1 FROM json_each(g.gprops) gp
                      WHERE gp.value NOT IN (SELECT np.value FROM json_each(n.props) np))
)
