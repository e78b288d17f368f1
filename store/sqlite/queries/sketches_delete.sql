-- A ReplaceRollups' windows lose their earlier sketches (publishing).
DELETE FROM visitor_sketches
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
