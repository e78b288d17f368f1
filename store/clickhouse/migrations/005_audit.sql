-- The audit log of administrative actions: append-only (only inserts are
-- ever sent; the collector's database user has no ALTER on it).
CREATE TABLE IF NOT EXISTS audit_log
(
    ts     DateTime('UTC'),
    actor  String,
    action LowCardinality(String),
    target String,
    detail String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, action)
SETTINGS index_granularity = 8192;
