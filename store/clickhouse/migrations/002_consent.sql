-- The consent ledger: append-only proof of every decision. One hash chain per
-- (site, chain_id); each collector process appends to a chain of its own
-- because ClickHouse cannot serialise appends across replicas. No IP, no user
-- agent.
CREATE TABLE IF NOT EXISTS consent_ledger
(
    site_id         UInt32,
    chain_id        UUID,
    seq             UInt64,
    consent_id      UUID,
    ts              DateTime('UTC'),
    action          LowCardinality(String),
    granted         UInt8,
    policy_version  UInt32,
    banner_hash     String,
    language        LowCardinality(String),
    gpc             UInt8,
    dnt             UInt8,
    snippet_version LowCardinality(String),
    prev_hash       String,
    hash            String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, chain_id, seq)
SETTINGS index_granularity = 8192;

-- Keys that sign consent tokens. A retirement is a newer row of the same key
-- (ReplacingMergeTree on version); readers use FINAL.
CREATE TABLE IF NOT EXISTS consent_keys
(
    kid        String,
    secret     String,
    created_at DateTime('UTC'),
    retired    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY kid;

-- Daily salts of the visitor key, shared by every collector and deleted
-- after 48 hours.
CREATE TABLE IF NOT EXISTS salts
(
    day        Date,
    secret     String,
    created_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (day, created_at);
