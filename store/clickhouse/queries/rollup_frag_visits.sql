-- Fragment: one row per visit of the events fragment, with its metrics and
-- session values (rollup_frag_visit_metrics.sql).
SELECT win, visitor_key, session_id, sess, {{visit_metrics}}
FROM ({{events}})
GROUP BY win, visitor_key, session_id, sess
