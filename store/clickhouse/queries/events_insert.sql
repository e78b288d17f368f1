-- The column order is the order of the values InsertEvents appends.
INSERT INTO events
(
    event_id, site_id, type, ts, date, received_at,
    host, path, query, referrer, referrer_host, source,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id,
    ip, ip_trunc, visitor_key, key_version, session_id, user_id,
    consent_id, consent, policy_version, gpc,
    browser, browser_version, os, os_version, device, screen_width,
    country, region, city, asn, isp,
    name, target, prop_keys, prop_values, engaged_ms, bot, bot_reason, language
);
