-- The consent ledger: append-only proof of every decision, one hash chain per
-- (site, chain_id). No IP, no user agent.
CREATE TABLE IF NOT EXISTS consent_ledger (
    site_id         INTEGER NOT NULL,
    chain_id        TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    consent_id      TEXT NOT NULL,
    ts              INTEGER NOT NULL,
    action          TEXT NOT NULL,
    granted         INTEGER NOT NULL,
    policy_version  INTEGER NOT NULL,
    banner_hash     TEXT NOT NULL,
    language        TEXT NOT NULL,
    gpc             INTEGER NOT NULL,
    dnt             INTEGER NOT NULL,
    snippet_version TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    PRIMARY KEY (site_id, chain_id, seq)
);
CREATE INDEX IF NOT EXISTS consent_ledger_consent ON consent_ledger (consent_id);
CREATE INDEX IF NOT EXISTS consent_ledger_ts ON consent_ledger (ts);

-- Keys that sign consent tokens.
CREATE TABLE IF NOT EXISTS consent_keys (
    kid        TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired    INTEGER NOT NULL DEFAULT 0
);

-- Daily salts of the visitor key, deleted after 48 hours.
CREATE TABLE IF NOT EXISTS salts (
    day        INTEGER NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
-- One salt a day: a replica racing to create it is refused and reads the winner.
CREATE UNIQUE INDEX IF NOT EXISTS salts_day ON salts (day);
