-- One staged rollup row (stageVisits): the cell of a window, dimension
-- and value, summed from the job's visits in Go.
INSERT INTO temp.rollups_stage (
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
