SELECT site_id, granularity, window_start, window_end, run_version, started, finished,
       rows_read, rows_written, status, partial, error
FROM rollup_runs
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to
ORDER BY window_start, run_version
