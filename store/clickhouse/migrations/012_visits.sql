-- Visit rows: one row per visit and window, written by the aggregator in
-- the same job as the window's rollups and by the same rules (the rollup
-- fragments' visits: by session id, else by 30 minutes of inactivity per
-- visitor key, cut at window edges). Filtered reports read them instead of
-- re-sessionising the raw events; see docs/reports.md. Internal, like the
-- rollups: they hold visitor keys and are never shared.
--
-- The session dimensions are kept as two parallel arrays, names and
-- values (store.SessionDimensions at the time the row was written), so a
-- dimension added later needs no new column; the event-dimension values
-- the visit touched (page, event name, event target) are parallel arrays
-- too, each value once with the pageviews, events and engaged time of its
-- events. A window is replaced like its rollups: ALTER TABLE … DELETE,
-- awaited, then INSERT … SELECT. visit numbers the visits of a visitor
-- key without a session id within the window (0 with a session id).
CREATE TABLE IF NOT EXISTS visits
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
    partial            UInt8,
    run_version        UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (site_id, granularity, window_start, visitor_key, session_id, visit)
SETTINGS index_granularity = 8192;
