-- Fragment: one row per event and event dimension in @dims: its page, and
-- its name and target when it has them, and its custom properties
-- (store.PropDimension): dimension 'props' with each key, 'props:KEY' with
-- the key's value (every key's when @dims holds "props:", as the visit
-- rows take them); a key whose value is empty is no property.
-- Broken URLs (store.DimNotFound): dimension 'not_found' with the path of
-- each click or custom event named 404.
-- Goals (store.DimGoal): dimension 'goal' with the name of each goal the
-- event reached (rollup_frag_goal_hits.sql), of the parallel arrays
-- @gnames, @gpage, @gpaths, @gevents, @gpkeys and @gpvals.
-- Goal revenue (store.DimGoalRevenue): dimension 'goal_revenue' with
-- "GOAL;CURRENCY" for each goal an event with revenue reached, its amount
-- in eng (a click or custom event has no engaged time); revenue_currency
-- reaches the lambda as an argument (18.16, see the events fragment).
-- Their first goal is always a blank one (goalArgs), which types the
-- arrays and whose rows the empty value drops. Bounces and duration belong to
-- visits, so they are zero here.
SELECT win, visitor_key, session_id, sess,
       toUInt64(etype = 'pageview') AS pv,
       toUInt64(etype IN ('click', 'event')) AS ev,
       toUInt64(0) AS bounce, toUInt64(0) AS dur,
       if(d.1 = 'goal_revenue', revenue_amount, toUInt64(engaged_ms)) AS eng,
       d.1 AS dim, d.2 AS value
FROM ({{events}})
ARRAY JOIN arrayConcat([('page', path), ('event_name', name), ('event_target', target),
                        ('not_found', if(name = '404' AND etype IN ('click', 'event'), path, ''))],
                       arrayMap((x, y) -> ('props', if(y = '', '', x)), prop_keys, prop_values),
                       arrayMap((x, y) -> (concat('props:', x), y), prop_keys, prop_values),
                       arrayMap(i -> ('goal', @gnames[i]), {{goal_hits}}),
                       arrayMap((i, c) -> ('goal_revenue', if(c = '', '', concat(@gnames[i], ';', c))), {{goal_hits}},
                                arrayResize([revenue_currency], length({{goal_hits}}), revenue_currency))
                       ) AS d
WHERE (has(@dims, d.1) OR has(@dims, 'props:') AND d.1 LIKE 'props:%') AND (d.1 = 'page' OR d.2 != '')
