SELECT site_id, granularity, window_start, dimension, value,
       visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial
FROM rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
ORDER BY window_start, dimension, value
