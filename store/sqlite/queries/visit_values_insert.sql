-- Stages the event-dimension values the staged visits touched (:dims: the
-- event dimensions, so the rows fragment yields one row per event and
-- value), each once per visit with the pageviews, events and engaged time
-- of its events. Runs after visits_insert.sql, in the same read
-- transaction, so both see the same events.
WITH {{rows}}
INSERT INTO temp.visit_values_stage (visit_id, dimension, value, pageviews, events, engaged_ms)
SELECT v.id, r.dim, r.val, SUM(r.pv), SUM(r.ev), SUM(r.eng)
FROM rollup_rows r
JOIN temp.visits_stage v
  ON v.window_start = r.win AND v.visitor_key = r.visitor_key AND v.session_id = r.session_id AND v.visit = r.sess
GROUP BY v.id, r.dim, r.val
