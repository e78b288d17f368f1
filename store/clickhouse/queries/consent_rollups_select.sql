SELECT site_id, toString(granularity), window_start, toString(category),
       decisions, granted, denied, withdrawn, gpc, partial
FROM consent_rollups
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
ORDER BY window_start, category;
