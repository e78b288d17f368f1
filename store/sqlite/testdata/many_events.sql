-- :n page views of site :site spread over the 30 days from :from, from
-- 5,000 visitors on 50 IPs and 8 paths: enough rows that aggregating or
-- erasing them is slow next to one small write.
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
INSERT INTO events (event_id, site_id, type, ts, received_at, host, path, ip, visitor_key, session_id,
                    consent, browser, os, device, country, source)
SELECT 'bulk-' || i, :site, 'pageview', :from + (i * 2591) % 2592000, :from + (i * 2591) % 2592000,
       'example.test', '/p' || (i % 8), '198.51.100.' || (i % 50), i % 5000, (i % 5000) * 7 + (i / 25000),
       1, 'Firefox', 'Linux', 'desktop', 'DE', 'search'
FROM seq
