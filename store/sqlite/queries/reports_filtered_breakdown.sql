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
-- names): freach walks each visit's steps, step j reached (k not null) at
-- the first event after step j-1's (by the order key k) that reached step
-- j's goal; the earliest match leaves the most events for later steps, so
-- a visit gets a 'funnel' row for each step up to the furthest it reached
-- in order. Events of one second and type share k and are not in order
-- (as on ClickHouse, reports_filtered_rows_funnel.sql).
WITH {{rows}},
fhits AS (
    SELECT h.win, h.visitor_key, h.session_id, h.sess, h.k, CAST(s.key AS INTEGER) AS j
    FROM goal_hits h JOIN json_each(:funnel) s ON s.value = h.goal
),
freach(win, visitor_key, session_id, sess, j, k) AS (
    SELECT win, visitor_key, session_id, sess, 0, MIN(k) FROM fhits WHERE j = 0
    GROUP BY win, visitor_key, session_id, sess
    UNION ALL
    SELECT r.win, r.visitor_key, r.session_id, r.sess, r.j + 1,
           (SELECT MIN(h.k) FROM fhits h
            WHERE h.win = r.win AND h.visitor_key = r.visitor_key AND h.session_id = r.session_id
              AND h.sess = r.sess AND h.j = r.j + 1 AND h.k > r.k)
    FROM freach r
    WHERE r.k IS NOT NULL AND r.j + 1 < json_array_length(:funnel)
),
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
