-- The visit rows of one site and granularity whose window starts in
-- [@from, @to) (store.Visit).
SELECT window_start, visitor_key, session_id, visit_start, pageviews, events, bounce, duration_s, engaged_ms,
       session_dims, session_values, touched_dims, touched_values, touched_pageviews, touched_events, touched_engaged_ms, partial
FROM visits
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
ORDER BY window_start, visitor_key, session_id, visit_start;
