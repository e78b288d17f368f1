SELECT site_id, toString(granularity), window_start, toString(dimension), value,
       visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial
FROM rollups
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
ORDER BY window_start, dimension, value;
