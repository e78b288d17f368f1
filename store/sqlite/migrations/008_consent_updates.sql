-- Updates of a consent decision (the ledger holds them too, as proof): the
-- index collectors read to learn, since their last look, which consent ids
-- changed, without scanning every decision. A token grants at most what the
-- latest decision of its consent id grants. Withdrawals are read from the
-- ledger.
CREATE TABLE IF NOT EXISTS consent_updates (
    site_id    INTEGER NOT NULL,
    consent_id TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    granted    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS consent_updates_ts ON consent_updates (ts);
