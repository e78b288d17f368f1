DELETE FROM consent_rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
