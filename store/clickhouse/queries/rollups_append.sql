-- The rollup rows insertVisits appends (summed in Go from the job's visits,
-- store.RollupCells), in this column order.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
