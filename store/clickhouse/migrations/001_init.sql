-- Sites whose events are accepted. Small; looked up by domain and cached by the collector.
CREATE TABLE IF NOT EXISTS sites
(
    site_id    UInt32,
    domain     String,
    created_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (domain, site_id);

-- Raw events. ReplacingMergeTree on a key that ends in event_id makes a
-- replayed event (same id, same time) collapse into one row; readers use
-- FINAL so duplicates not yet merged are never counted.
CREATE TABLE IF NOT EXISTS events
(
    event_id        UUID,
    site_id         UInt32,
    type            Enum8('pageview' = 1, 'click' = 2, 'event' = 3, 'engagement' = 4, 'email_open' = 5, 'email_click' = 6),
    ts              DateTime('UTC'),
    date            Date,
    received_at     DateTime('UTC'),
    host            LowCardinality(String),
    path            String,
    query           String,
    referrer        String,
    referrer_host   LowCardinality(String),
    source          LowCardinality(String),
    utm_source      LowCardinality(String),
    utm_medium      LowCardinality(String),
    utm_campaign    LowCardinality(String),
    utm_term        String,
    utm_content     String,
    click_id        String,
    ip              String,
    ip_trunc        String,
    visitor_key     UInt64,
    key_version     UInt8,
    session_id      UInt64,
    user_id         String,
    consent_id      UUID,
    consent         UInt8,
    policy_version  LowCardinality(String),
    gpc             UInt8,
    browser         LowCardinality(String),
    browser_version LowCardinality(String),
    os              LowCardinality(String),
    os_version      LowCardinality(String),
    device          LowCardinality(String),
    screen_width    UInt16,
    country         LowCardinality(String),
    region          LowCardinality(String),
    city            LowCardinality(String),
    asn             UInt32,
    isp             LowCardinality(String),
    name            String,
    target          String,
    prop_keys       Array(String),
    prop_values     Array(String),
    engaged_ms      UInt32,
    bot             UInt8,
    bot_reason      LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, visitor_key, ts, event_id)
SETTINGS index_granularity = 8192;
