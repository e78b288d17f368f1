-- Fragment, a select list of aggregates over the events of one visit (by
-- the events fragment's columns): its pageviews, events, bounce (one
-- pageview, no other events), start, duration, engaged time and its value
-- of every session dimension: a visit is described by its first event (by
-- k), its exit page by its last. One column s_<name> per session
-- dimension, expanded from store.Dimensions at start-up.
countIf(etype = 'pageview') AS pv,
countIf(etype IN ('click', 'event')) AS ev,
toUInt64(pv = 1 AND ev = 0) AS bounce,
min(t) AS t0,
toUInt64(max(t) - min(t)) AS dur,
sum(toUInt64(engaged_ms)) AS eng[[range .Session]],
[[if .Last]]argMax[[else]]argMin[[end]](c_[[.Column]], k) AS s_[[.Name]][[end]]
