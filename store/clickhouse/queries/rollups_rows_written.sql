-- Rollup and consent rollup rows per window of one site in [@from, @to).
SELECT win, count()
FROM
(
    SELECT toUInt32(window_start) AS win FROM rollups
    WHERE site_id = @site AND granularity = @granularity
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
    UNION ALL
    SELECT toUInt32(window_start) AS win FROM consent_rollups
    WHERE site_id = @site AND granularity = @granularity
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
)
GROUP BY win;
