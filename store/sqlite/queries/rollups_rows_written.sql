-- Rollup and consent rollup rows per window, counted in the stage.
SELECT window_start, COUNT(*) FROM (
    SELECT window_start FROM temp.rollups_stage
    UNION ALL
    SELECT window_start FROM temp.consent_rollups_stage
)
GROUP BY window_start
