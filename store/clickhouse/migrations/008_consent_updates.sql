-- Updates of a consent decision (the ledger holds them too, as proof): the
-- index collectors read to learn, since their last look, which consent ids
-- changed, without scanning every decision. A token grants at most what the
-- latest decision of its consent id grants. Withdrawals are read from the
-- ledger.
CREATE TABLE IF NOT EXISTS consent_updates
(
    site_id    UInt32,
    consent_id UUID,
    ts         DateTime('UTC'),
    granted    UInt8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts, consent_id);
