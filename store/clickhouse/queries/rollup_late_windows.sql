-- Windows of one site in [@from, @to) holding an event received at or after
-- the start of the window's last successful run.
SELECT win
FROM
(
    SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
           max(received_at) AS last_received
    FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
    GROUP BY win
)
ANY INNER JOIN
(
    SELECT toUInt32(window_start) AS win, max(started) AS last_run
    FROM rollup_runs
    WHERE site_id = @site AND granularity = @granularity AND status = 'ok'
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
    GROUP BY win
) USING (win)
WHERE last_received >= last_run
ORDER BY win;
