-- Fragment, an expression: the (dimension, value) pairs of one event of
-- the events fragment for the dimensions in @dims: its page, and its name
-- and target when it has them, and its custom properties
-- (store.PropDimension): dimension 'props' with each key, 'props:KEY' with
-- the key's value (every key's when @dims holds "props:", as the visit
-- rows take them); a key whose value is empty is no property.
-- Broken URLs (store.DimNotFound): dimension 'not_found' with the path of
-- each click or custom event named 404.
-- Goals (store.DimGoal): dimension 'goal' with the name of each goal the
-- event reached (rollup_frag_goal_hits.sql), of the parallel arrays
-- @gnames, @gpage, @gpaths, @gevents, @gpkeys and @gpvals.
-- Goal revenue (store.DimGoalRevenue): dimension 'goal_revenue' with
-- "GOAL;CURRENCY" for each goal an event with revenue reached;
-- revenue_currency reaches the lambda as an argument (18.16, see
-- rollup_frag_visit_number.sql).
-- Their first goal is always a blank one (goalArgs), which types the
-- arrays and whose pairs the empty value drops.
arrayFilter(d -> (has(@dims, d.1) OR has(@dims, 'props:') AND d.1 LIKE 'props:%') AND (d.1 = 'page' OR d.2 != ''),
            arrayConcat([('page', path), ('event_name', name), ('event_target', target),
                          ('not_found', if(name = '404' AND etype IN ('click', 'event'), path, ''))],
                         arrayMap((x, y) -> ('props', if(y = '', '', x)), prop_keys, prop_values),
                         arrayMap((x, y) -> (concat('props:', x), y), prop_keys, prop_values),
                         arrayMap(i -> ('goal', @gnames[i]), {{goal_hits}}),
                         arrayMap((i, c) -> ('goal_revenue', if(c = '', '', concat(@gnames[i], ';', c))), {{goal_hits}},
                                  arrayResize([revenue_currency], length({{goal_hits}}), revenue_currency))))
