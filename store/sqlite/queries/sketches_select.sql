-- The sketches of one site and granularity whose window starts in
-- [:from, :to), merged in Go per bucket.
SELECT window_start, sketch FROM visitor_sketches
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
ORDER BY window_start;
