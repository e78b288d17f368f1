SELECT site_id, toString(granularity), window_start, window_end, run_version, started, finished,
       rows_read, rows_written, toString(status), partial, error
FROM rollup_runs
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
ORDER BY window_start, run_version;
