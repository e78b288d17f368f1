SELECT site_id, granularity, window_start, category, decisions, granted, denied, withdrawn, gpc, partial
FROM consent_rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
ORDER BY window_start, category
