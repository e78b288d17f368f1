-- Rollups: what the aggregator makes of the raw events, one row per site,
-- granularity, window, dimension and value (the empty dimension holds the
-- totals). Analysts' reports read this table; it is internal, not shareable
-- (partners get anonymised releases, see aggregator/doc.go).
--
-- Re-running a window replaces its rows: the aggregator deletes them with
-- ALTER TABLE … DELETE, waits until system.mutations has no pending
-- mutation on the table, then inserts the new results with
-- INSERT … SELECT. A plain MergeTree is enough for that; ReplacingMergeTree
-- would leave rows of values that vanished from a window (after an erasure,
-- say) behind. run_version says which run wrote a row.
CREATE TABLE IF NOT EXISTS rollups
(
    site_id      UInt32,
    granularity  Enum8('hour' = 1, 'day' = 2),
    window_start DateTime('UTC'),
    dimension    LowCardinality(String),
    value        String,
    visitors     UInt64,
    visits       UInt64,
    pageviews    UInt64,
    events       UInt64,
    bounces      UInt64,
    duration_s   UInt64,
    engaged_ms   UInt64,
    partial      UInt8,
    run_version  UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start, dimension, value)
SETTINGS index_granularity = 8192;

-- Consent statistics per window and category, from consent_ledger; replaced
-- together with the window's rollups.
CREATE TABLE IF NOT EXISTS consent_rollups
(
    site_id      UInt32,
    granularity  Enum8('hour' = 1, 'day' = 2),
    window_start DateTime('UTC'),
    category     LowCardinality(String),
    decisions    UInt64,
    granted      UInt64,
    denied       UInt64,
    withdrawn    UInt64,
    gpc          UInt64,
    partial      UInt8,
    run_version  UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start, category)
SETTINGS index_granularity = 8192;

-- The run log: one row per window per aggregation run, appended when the
-- window is done (or failed). The aggregator finds the windows still to do,
-- and the windows with late events, from it.
CREATE TABLE IF NOT EXISTS rollup_runs
(
    site_id      UInt32,
    granularity  Enum8('hour' = 1, 'day' = 2),
    window_start DateTime('UTC'),
    window_end   DateTime('UTC'),
    run_version  UInt64,
    started      DateTime('UTC'),
    finished     DateTime('UTC'),
    rows_read    UInt64,
    rows_written UInt64,
    status       LowCardinality(String),
    partial      UInt8,
    error        String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start, run_version)
SETTINGS index_granularity = 8192;
