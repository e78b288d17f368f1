-- One UTC day of generated events for BenchmarkAggregateClickHouse, made
-- inside ClickHouse. Named arguments: @site, @day (Unix seconds of the
-- day's midnight), @n (events). About ten events per visitor key a minute
-- and a half apart; half the visitors carry session ids; a third of the
-- others pause an hour after their fifth event (a second derived visit);
-- 2% of visitors are bots and 5% have GPC on.
INSERT INTO events
(
    event_id, site_id, type, ts, date, received_at, host, path, query, referrer, referrer_host, source,
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, click_id, ip, ip_trunc,
    visitor_key, key_version, session_id, user_id, consent_id, consent, policy_version, gpc,
    browser, browser_version, os, os_version, device, screen_width, country, region, city, asn, isp,
    name, target, prop_keys, prop_values, engaged_ms, bot, bot_reason
)
SELECT
    generateUUIDv4(), toUInt32(@site),
    CAST(multiIf(number % 10 < 6, 'pageview', number % 10 < 8, 'engagement', number % 10 = 8, 'click', 'event')
         AS Enum8('pageview' = 1, 'click' = 2, 'event' = 3, 'engagement' = 4, 'email_open' = 5, 'email_click' = 6)),
    toDateTime(toUInt32(@day) + (cityHash64(intDiv(number, 10)) % 79000) + (number % 10) * 90
               + if(number % 10 >= 5 AND intDiv(number, 10) % 3 = 1, 3600, 0), 'UTC') AS t,
    toDate(t), t,
    'bench.example', concat('/p/', toString(cityHash64(number, 1) % 500)), '', '',
    if(number % 10 = 0, concat('ref', toString(cityHash64(intDiv(number, 10), 2) % 50), '.example'), ''),
    if(number % 10 = 0, 'search', ''),
    if(number % 10 = 0, concat('src', toString(intDiv(number, 10) % 7)), ''), if(number % 10 = 0, 'cpc', ''),
    if(number % 10 = 0, concat('c', toString(intDiv(number, 10) % 13)), ''), '', '', '', '', '',
    cityHash64(intDiv(number, 10), 3), 1, if(intDiv(number, 10) % 2 = 0, cityHash64(intDiv(number, 10), 4), 0), '',
    toUUID('00000000-0000-0000-0000-000000000000'), 1, '1', toUInt8(intDiv(number, 10) % 20 = 0),
    concat('B', toString(intDiv(number, 10) % 5)), '1', concat('OS', toString(intDiv(number, 10) % 4)), '1',
    ['desktop', 'mobile', 'tablet'][intDiv(number, 10) % 3 + 1], 1280,
    concat('C', toString(intDiv(number, 10) % 30)), concat('R', toString(intDiv(number, 10) % 90)), '', 0, '',
    if(number % 10 >= 8, concat('ev', toString(number % 3)), ''), if(number % 10 = 8, '/out', ''), [], [],
    toUInt32(number % 10 = 6) * 5000, toUInt8(intDiv(number, 10) % 50 = 0), ''
FROM system.numbers
LIMIT @n;
