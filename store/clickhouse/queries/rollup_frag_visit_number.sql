-- Fragment, an expression: the visit number of an event at time t, from
-- starts (rollup_frag_visit_starts.sql): 0 with a session id, else the
-- number of visit starts at or before t. The arrayResize hands t to the
-- lambda as an argument: 18.16 does not see columns used only inside a
-- lambda and would drop t from the subquery.
if(session_id = 0, arrayCount((b, x) -> b <= x, starts, arrayResize(emptyArrayUInt32(), length(starts), t)), 0)
