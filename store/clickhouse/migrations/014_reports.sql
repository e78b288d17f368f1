-- Scheduled e-mail reports: the key that signs their unsubscribe links,
-- which period went to which recipient (by RecipientHash: each is sent
-- once), and who unsubscribed. Two aggregators may both add a key or a
-- row: readers take the first key and any row.
CREATE TABLE IF NOT EXISTS report_keys
(
    id         String,
    secret     String,
    created_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (created_at, id);
CREATE TABLE IF NOT EXISTS report_sends
(
    site_id   UInt32,
    schedule  String,
    from_day  String,
    recipient String,
    sent_at   DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (site_id, schedule, from_day, recipient);
CREATE TABLE IF NOT EXISTS report_unsubscribes
(
    site_id   UInt32,
    recipient String,
    at        DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (site_id, recipient);
