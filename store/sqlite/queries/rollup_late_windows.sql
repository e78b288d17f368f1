-- Windows holding an event received at or after the start of the window's
-- last successful run.
WITH wins AS (
    SELECT json_extract(value, '$[0]') AS ws, json_extract(value, '$[1]') AS we FROM json_each(:windows)
),
last_runs AS (
    SELECT window_start, MAX(started) AS last_run FROM rollup_runs
    WHERE site_id = :site AND granularity = :granularity AND status = 'ok'
      AND window_start >= :from AND window_start < :to
    GROUP BY window_start
)
SELECT w.ws FROM wins w JOIN last_runs r ON r.window_start = w.ws
WHERE EXISTS (
    SELECT 1 FROM events e
    WHERE e.site_id = :site AND e.ts >= w.ws AND e.ts < w.we AND e.received_at >= r.last_run
)
ORDER BY w.ws
