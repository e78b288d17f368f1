-- How many windows of one site and granularity in [:from, :to) have
-- rollups (a totals row: the window had visits) but no visit rows
-- (aggregated before visit rows were kept, or past retention, which
-- deletes them), and how many have no visitor sketch (aggregated before
-- sketches were kept), and how many have no visit rows whose touched
-- values are of :touched_version (store.TouchedVersion: written before
-- they kept custom properties): store.MissingWindows's Visits,
-- Sketches and Values.
SELECT
    COALESCE(SUM(window_start NOT IN (
        SELECT window_start FROM visits
        WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
    )), 0),
    COALESCE(SUM(window_start NOT IN (
        SELECT window_start FROM visitor_sketches
        WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
    )), 0),
    COALESCE(SUM(window_start NOT IN (
        SELECT window_start FROM visits
        WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
          AND touched_version >= :touched_version
    )), 0)
FROM (
    SELECT DISTINCT window_start FROM rollups
    WHERE site_id = :site AND granularity = :granularity AND dimension = ''
      AND window_start >= :from AND window_start < :to
)
