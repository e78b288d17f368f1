-- The visit rows insertVisits appends, in this column order.
INSERT INTO visits
(
    site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session_dims, session_values,
    touched_dims, touched_values, touched_pageviews, touched_events, touched_engaged_ms, touched_version, partial, run_version
)
