-- Raw events of one site in [from, to) by event time. Arguments: site id,
-- from, to, from, to (the date condition prunes partitions and the primary
-- key; the ts condition is exact). FINAL collapses replayed events. The
-- column order is the order Events scans them in; ties on ts are broken by
-- the id's text so every backend returns the same order.
SELECT
    event_id, site_id, type, ts, received_at,
    host, path, query, referrer, referrer_host, source,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id,
    ip, ip_trunc, visitor_key, key_version, session_id, user_id,
    consent_id, consent, policy_version, gpc,
    browser, browser_version, os, os_version, device, screen_width,
    country, region, city, asn, isp,
    name, target, prop_keys, prop_values, engaged_ms, bot, bot_reason, language
FROM events FINAL
WHERE site_id = ?
  AND date >= toDate(?) AND date <= toDate(?)
  AND ts >= ? AND ts < ?
ORDER BY ts, toString(event_id);
