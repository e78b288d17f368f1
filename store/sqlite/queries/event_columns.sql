-- The columns of a raw event in the order scanEvents (events.go) reads them: what
-- {{event_columns}} stands for in events.sql, events_by_consent.sql,
-- events_by_ip.sql, events_by_user.sql and insert_event.sql, whose row of
-- parameters ({{event_params}}) has one per column (store.InlineFragment).
    event_id, site_id, type, ts, received_at,
    host, path, query, referrer, referrer_host, source,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id,
    ip, ip_trunc, visitor_key, key_version, session_id, user_id,
    consent_id, consent, policy_version, gpc,
    browser, browser_version, os, os_version, device, screen_width,
    country, region, city, asn, isp,
    name, target, props, engaged_ms, bot, bot_reason, language,
    revenue_amount, revenue_currency, scroll_depth
