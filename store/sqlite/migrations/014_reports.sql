-- Scheduled e-mail reports: the key that signs their unsubscribe links,
-- which period went to which recipient (by RecipientHash: each is sent
-- once), and who unsubscribed.
CREATE TABLE IF NOT EXISTS report_keys (
    id         TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS report_sends (
    site_id   INTEGER NOT NULL,
    schedule  TEXT NOT NULL,
    from_day  TEXT NOT NULL,
    recipient TEXT NOT NULL,
    sent_at   INTEGER NOT NULL,
    PRIMARY KEY (site_id, schedule, from_day, recipient)
);
CREATE TABLE IF NOT EXISTS report_unsubscribes (
    site_id   INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (site_id, recipient)
);
