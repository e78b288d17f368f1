-- How many windows of one site and granularity in [@from, @to) have
-- rollups (a totals row: the window had visits) but no visit rows: windows
-- aggregated before visit rows were kept, which reports answer from the
-- raw events until they are aggregated again.
SELECT count()
FROM
(
    SELECT DISTINCT window_start FROM rollups
    WHERE site_id = @site AND granularity = @granularity AND dimension = ''
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
)
WHERE window_start NOT IN
(
    SELECT DISTINCT window_start FROM visits
    WHERE site_id = @site AND granularity = @granularity
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
);
