-- Visit rows get a sampling key (issue #15, the sampled mode for large
-- sites: docs/reports.md). ClickHouse samples only a table whose SAMPLE BY
-- expression is in its primary key, and 18.16 can neither add SAMPLE BY to
-- a table nor put a new expression into its sorting key, so the table is
-- made anew: visits_sampled, the columns of 012 and 042 with intHash32(visitor_key)
-- after the window in the sorting key (a window's rows stay together, the
-- deletes of a window and its range reads keep their index) and as the
-- SAMPLE BY expression, so SAMPLE 1/N keeps or drops a visitor whole, the
-- same visitors in every window. The rows are copied (derived data, but a
-- copy keeps every retained day answering from visit rows at once;
-- `footfall aggregate -from … -to …` rebuilds any that are missing), the
-- tables swapped by RENAME and the old one dropped. The statements can be
-- run again after a failure: leftovers of an earlier attempt are dropped
-- first. A window the aggregator replaces while this runs keeps its rows
-- in the old table only; run migrations with the aggregator stopped, or
-- aggregate the day again. In cluster mode the rewrite (cluster.go) copies
-- through the Distributed tables, sharded alike, and renames the _local
-- tables ON CLUSTER.
DROP TABLE IF EXISTS visits_unsampled;
DROP TABLE IF EXISTS visits_sampled;
CREATE TABLE visits_sampled
(
    site_id            UInt32,
    granularity        Enum8('hour' = 1, 'day' = 2),
    window_start       DateTime('UTC'),
    visitor_key        UInt64,
    session_id         UInt64,
    visit              UInt32,
    visit_start        DateTime('UTC'),
    pageviews          UInt64,
    events             UInt64,
    bounce             UInt8,
    duration_s         UInt64,
    engaged_ms         UInt64,
    session_dims       Array(String),
    session_values     Array(String),
    touched_dims       Array(String),
    touched_values     Array(String),
    touched_pageviews  Array(UInt64),
    touched_events     Array(UInt64),
    touched_engaged_ms Array(UInt64),
    touched_version    UInt8 DEFAULT 0,
    partial            UInt8,
    run_version        UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start, intHash32(visitor_key), visitor_key, session_id, visit)
SAMPLE BY intHash32(visitor_key)
SETTINGS index_granularity = 8192;
INSERT INTO visits_sampled (site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session_dims, session_values, touched_dims, touched_values,
    touched_pageviews, touched_events, touched_engaged_ms, touched_version, partial, run_version)
SELECT site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
    pageviews, events, bounce, duration_s, engaged_ms, session_dims, session_values, touched_dims, touched_values,
    touched_pageviews, touched_events, touched_engaged_ms, touched_version, partial, run_version
FROM visits;
RENAME TABLE visits TO visits_unsampled, visits_sampled TO visits;
DROP TABLE visits_unsampled;
