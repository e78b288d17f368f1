-- The time of a site's first event or consent record, and how many there
-- are (0: none).
SELECT minIf(t, n > 0), sum(n)
FROM
(
    SELECT min(ts) AS t, count() AS n FROM events WHERE site_id = @site
    UNION ALL
    SELECT min(ts) AS t, count() AS n FROM consent_ledger WHERE site_id = @site
);
