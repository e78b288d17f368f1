-- The per-day cells of a partner release (store.CellQuery), as the
-- ClickHouse query of the same name computes them.
WITH {{rows}},
folded AS (
    SELECT win, dim, visitor_key, session_id, sess, pv, ev,
           CASE WHEN :fold = 1 AND (win || '|' || dim || '|' || val) NOT IN (SELECT value FROM json_each(:keep))
                THEN '(other)' ELSE val END AS cell
    FROM rollup_rows
),
per_visitor AS (
    SELECT win, dim, cell, visitor_key,
           MIN(COUNT(DISTINCT session_id || ':' || sess), :max_visits) AS v,
           MIN(SUM(pv), :max_pageviews) AS p,
           MIN(SUM(ev), :max_events) AS e
    FROM folded
    GROUP BY win, dim, cell, visitor_key
),
ranked AS (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY visitor_key, dim ORDER BY p DESC, win, cell) AS idx
    FROM per_visitor
)
SELECT win, dim, cell, COUNT(*),
       SUM(idx <= :max_cells),
       SUM(CASE WHEN idx <= :max_cells THEN v ELSE 0 END),
       SUM(CASE WHEN idx <= :max_cells THEN p ELSE 0 END),
       SUM(CASE WHEN idx <= :max_cells THEN e ELSE 0 END)
FROM ranked
GROUP BY win, dim, cell
ORDER BY win, dim, cell
