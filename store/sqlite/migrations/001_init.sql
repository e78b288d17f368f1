-- Sites whose events are accepted.
CREATE TABLE IF NOT EXISTS sites (
    site_id    INTEGER PRIMARY KEY,
    domain     TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Raw events. Times are Unix seconds (UTC); event_id as the primary key makes
-- a replayed event a no-op (INSERT OR IGNORE).
CREATE TABLE IF NOT EXISTS events (
    event_id        TEXT PRIMARY KEY,
    site_id         INTEGER NOT NULL,
    type            TEXT NOT NULL,
    ts              INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    host            TEXT NOT NULL DEFAULT '',
    path            TEXT NOT NULL DEFAULT '',
    query           TEXT NOT NULL DEFAULT '',
    referrer        TEXT NOT NULL DEFAULT '',
    referrer_host   TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL DEFAULT '',
    utm_source      TEXT NOT NULL DEFAULT '',
    utm_medium      TEXT NOT NULL DEFAULT '',
    utm_campaign    TEXT NOT NULL DEFAULT '',
    utm_term        TEXT NOT NULL DEFAULT '',
    utm_content     TEXT NOT NULL DEFAULT '',
    click_id        TEXT NOT NULL DEFAULT '',
    ip              TEXT NOT NULL DEFAULT '',
    ip_trunc        TEXT NOT NULL DEFAULT '',
    visitor_key     INTEGER NOT NULL DEFAULT 0,
    key_version     INTEGER NOT NULL DEFAULT 0,
    session_id      INTEGER NOT NULL DEFAULT 0,
    user_id         TEXT NOT NULL DEFAULT '',
    consent_id      TEXT NOT NULL DEFAULT '',
    consent         INTEGER NOT NULL DEFAULT 0,
    policy_version  TEXT NOT NULL DEFAULT '',
    gpc             INTEGER NOT NULL DEFAULT 0,
    browser         TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    os              TEXT NOT NULL DEFAULT '',
    os_version      TEXT NOT NULL DEFAULT '',
    device          TEXT NOT NULL DEFAULT '',
    screen_width    INTEGER NOT NULL DEFAULT 0,
    country         TEXT NOT NULL DEFAULT '',
    region          TEXT NOT NULL DEFAULT '',
    city            TEXT NOT NULL DEFAULT '',
    asn             INTEGER NOT NULL DEFAULT 0,
    isp             TEXT NOT NULL DEFAULT '',
    name            TEXT NOT NULL DEFAULT '',
    target          TEXT NOT NULL DEFAULT '',
    props           TEXT NOT NULL DEFAULT '[]',
    engaged_ms      INTEGER NOT NULL DEFAULT 0,
    bot             INTEGER NOT NULL DEFAULT 0,
    bot_reason      TEXT NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS events_site_ts ON events (site_id, ts);
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS events_consent ON events (consent_id);
