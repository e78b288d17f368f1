-- An expression: whether an event of the events fragment reached the goal
-- of funnel step [J] (reports_filtered_rows_funnel.sql; reports.go puts
-- each step's number for [J]): a page goal (@fpage[J] = 1) by a pageview
-- of one of @fpaths[J], an event goal by a click or custom event named
-- @fevents[J] with every key of @fpkeys[J] at its value of @fpvals[J]
-- (funnelArgs). The goals' own hits (rollup_frag_goal_hits.sql) take the
-- same rules over every goal at once, which costs three times as much per
-- event.
if(@fpage[J] = 1,
   etype = 'pageview' AND has(@fpaths[J], path),
   etype IN ('click', 'event') AND name = @fevents[J]
   AND arrayAll((x, y) -> prop_values[indexOf(prop_keys, x)] = y, @fpkeys[J], @fpvals[J]))
