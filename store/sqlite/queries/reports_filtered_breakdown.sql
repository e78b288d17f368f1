-- Metrics per value of :bdim over the visits of [:from, :to) (one window)
-- that match the filter :fdim :fop :fval (store.FilteredBreakdownQuery),
-- by the rollups' rules (the rows fragment; :dims holds both dimensions).
WITH {{rows}},
matched AS (
    SELECT DISTINCT visitor_key, session_id, sess FROM rollup_rows
    WHERE dim = :fdim
      AND CASE :fop WHEN '==' THEN val = :fval
                    WHEN '!=' THEN val != :fval
                    ELSE instr(lower(val), lower(:fval)) > 0 END
)
SELECT r.val, COUNT(DISTINCT r.visitor_key), COUNT(DISTINCT r.visitor_key || ':' || r.session_id || ':' || r.sess),
       SUM(r.pv), SUM(r.ev), SUM(r.bounce), SUM(r.dur), SUM(r.eng)
FROM rollup_rows r
JOIN matched m ON m.visitor_key = r.visitor_key AND m.session_id = r.session_id AND m.sess = r.sess
WHERE r.dim = :bdim
GROUP BY r.val
