-- Metrics per window (:windows: the buckets, or the whole range as one)
-- and value of :bdim over the visits of [:from, :to) that match every
-- filter of :filters, a JSON array of [dimension, operator, value]
-- (store.FilteredBreakdownQuery), by the rollups' rules (the rows fragment;
-- :dims holds :bdim and the filters' dimensions). A hit is a visit's row
-- that a filter names: for "==" and "~" a value that matches, for "!=" the
-- value excluded. A visit matches when it hits every "==" and "~" filter
-- (:npos of them) and no "!=" filter. Every visit also gets a sentinel row
-- (filter -1), so visits without hits are seen.
-- Funnels (store.DimFunnel; :funnel, a JSON array of the steps' goal
-- names): a visit gets a 'funnel' row for each step up to the furthest it
-- reached in order (freach, the funnel_steps fragment). A funnel without
-- filters reads less: reports_funnel.sql.
WITH {{rows}},
{{funnel_steps}},
visit_rows AS (
    SELECT win, visitor_key, session_id, sess, pv, ev, bounce, dur, eng, dim, val FROM rollup_rows
    UNION ALL
    SELECT win, visitor_key, session_id, sess, 0, 0, 0, 0, 0, 'funnel', CAST(j + 1 AS TEXT) FROM freach
    WHERE k IS NOT NULL
),
filters AS (
    SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS fdim,
           json_extract(value, '$[1]') AS fop, json_extract(value, '$[2]') AS fval
    FROM json_each(:filters)
),
hits AS (
    SELECT r.win, r.visitor_key, r.session_id, r.sess, f.i, f.fop
    FROM visit_rows r JOIN filters f ON r.dim = f.fdim
    WHERE CASE f.fop WHEN '~' THEN instr(lower(r.val), lower(f.fval)) > 0 ELSE r.val = f.fval END
    UNION ALL
    SELECT win, visitor_key, session_id, sess, -1, '' FROM visit_rows
),
matched AS (
    SELECT win, visitor_key, session_id, sess FROM hits
    GROUP BY win, visitor_key, session_id, sess
    HAVING COUNT(DISTINCT CASE WHEN fop IN ('==', '~') THEN i END) = :npos
       AND SUM(fop = '!=') = 0
)
SELECT r.win, r.val, COUNT(DISTINCT r.visitor_key), COUNT(DISTINCT r.visitor_key || ':' || r.session_id || ':' || r.sess),
       SUM(r.pv), SUM(r.ev), SUM(r.bounce), SUM(r.dur), SUM(r.eng)
FROM visit_rows r
JOIN matched m ON m.win = r.win AND m.visitor_key = r.visitor_key AND m.session_id = r.session_id AND m.sess = r.sess
WHERE r.dim = :bdim
GROUP BY r.win, r.val
