-- The event rows reports_filtered_breakdown.sql reads ({{visit_rows}}).
SELECT win, visitor_key, session_id, sess, pv, ev, bounce, dur, eng, dim, value FROM ({{event_rows}})
