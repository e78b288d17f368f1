-- Visitor sketches (store/sketches.go): per window, a uniqCombined state of
-- its visit rows' distinct visitor keys, written by ReplaceRollups from
-- the visit rows right after they are inserted, and kept like the rollups:
-- retention deletes the raw events and the visit rows, which hold visitor
-- keys, and leaves the sketches, which hold hashed state only. A window
-- aggregated again gets a row of a newer run_version, which replaces the
-- old one (read with FINAL), so re-running a window needs no mutation.
-- uniqCombined (no precision parameter, which 18.16 may not take: 2^17
-- cells) is known to 18.16 and current releases alike.
CREATE TABLE IF NOT EXISTS visitor_sketches
(
    site_id      UInt32,
    granularity  Enum8('hour' = 1, 'day' = 2),
    window_start DateTime('UTC'),
    visitors     AggregateFunction(uniqCombined, UInt64),
    run_version  UInt64
)
ENGINE = ReplacingMergeTree(run_version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start)
SETTINGS index_granularity = 8192;
