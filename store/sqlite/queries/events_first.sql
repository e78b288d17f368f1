-- The time of a site's first event or consent record, and how many there
-- are (0: none).
SELECT MIN(ts), COUNT(*) FROM (
    SELECT ts FROM events WHERE site_id = :site
    UNION ALL
    SELECT ts FROM consent_ledger WHERE site_id = :site
)
