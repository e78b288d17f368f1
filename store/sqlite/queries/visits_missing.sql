-- How many windows of one site and granularity in [:from, :to) have
-- rollups (a totals row: the window had visits) but no visit rows: windows
-- aggregated before visit rows were kept, which reports answer from the
-- raw events until they are aggregated again.
SELECT COUNT(*)
FROM (
    SELECT DISTINCT window_start FROM rollups
    WHERE site_id = :site AND granularity = :granularity AND dimension = ''
      AND window_start >= :from AND window_start < :to
)
WHERE window_start NOT IN (
    SELECT window_start FROM visits
    WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
)
