INSERT INTO rollup_runs (
    site_id, granularity, window_start, window_end, run_version, started, finished,
    rows_read, rows_written, status, partial, error
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
