-- Rollup and consent rollup rows per window.
SELECT window_start, COUNT(*) FROM (
    SELECT window_start FROM rollups
    WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
    UNION ALL
    SELECT window_start FROM consent_rollups
    WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
)
GROUP BY window_start
