-- A month of events generated inside ClickHouse: @n events, 5 per visit
-- (one minute apart), 12 visits per visitor, visit starts spread over the
-- 30 days before @end; 8 paths, 7 countries, 3 devices, 5 sources, the
-- session values fixed per visit. Every 5th event is a named "event" with
-- the custom property plan (free, pro or team, fixed per visit).
INSERT INTO events (event_id, site_id, type, ts, date, received_at, host, path, referrer_host, source,
    visitor_key, key_version, session_id, consent, browser, os, device, country, name, prop_keys, prop_values, engaged_ms, bot)
SELECT
    generateUUIDv4(), toUInt32(@site), if(number % 5 = 4, 'event', 'pageview'), t, toDate(t), t, 'demo.footfall.test',
    arrayElement(['/', '/pricing', '/blog/a', '/blog/b', '/docs', '/about', '/signup', '/contact'], toUInt64(cityHash64(number) % 8 + 1)),
    arrayElement(['', 'google.com', 'news.ycombinator.com', 'twitter.com', 'mail.example'], toUInt64(v % 5 + 1)),
    arrayElement(['direct', 'google', 'hackernews', 'twitter', 'newsletter'], toUInt64(v % 5 + 1)),
    intDiv(v, 12) + 1, toUInt8(1), v + 1, toUInt8(1),
    arrayElement(['Chrome', 'Firefox', 'Safari'], toUInt64(cityHash64(v, 1) % 3 + 1)),
    arrayElement(['Windows', 'Android', 'iOS'], toUInt64(cityHash64(v, 1) % 3 + 1)),
    arrayElement(['desktop', 'mobile', 'tablet'], toUInt64(cityHash64(v, 1) % 3 + 1)),
    arrayElement(['DE', 'US', 'FR', 'GB', 'NL', 'IT', 'ES'], toUInt64(cityHash64(v, 2) % 7 + 1)),
    if(number % 5 = 4, 'signup', ''), if(number % 5 = 4, ['plan'], emptyArrayString()),
    if(number % 5 = 4, [arrayElement(['free', 'pro', 'team'], toUInt64(cityHash64(v, 3) % 3 + 1))], emptyArrayString()), toUInt32(number % 7 * 1000), toUInt8(0)
FROM
(
    SELECT number, intDiv(number, 5) AS v,
        toDateTime(toUInt32(@end) - 30 * 86400 + toUInt32(cityHash64(v) % (30 * 86400 - 3600)) + toUInt32(number % 5 * 60), 'UTC') AS t
    FROM system.numbers
    LIMIT @n
)
