-- A month of events generated inside SQLite, the shape of
-- bench_generate.sql: ?3 events, 5 per visit (one minute apart), 12 visits
-- per visitor, visit starts spread over the 30 days before ?2; 8 paths,
-- 7 countries, 3 devices, 5 sources, the session values fixed per visit.
-- Every 5th event is a named "event" with the custom property plan (free,
-- pro or team, fixed per visit). h() stands for cityHash64: a
-- multiplicative hash, its middle bits taken.
WITH RECURSIVE n(number) AS (SELECT 0 UNION ALL SELECT number + 1 FROM n WHERE number + 1 < ?3),
g AS (
    SELECT number, number / 5 AS v,
        ?2 - 30 * 86400 + ((number / 5) * 2654435761 % 4294967296 / 256) % (30 * 86400 - 3600) + number % 5 * 60 AS t,
        (number * 2246822519 % 4294967296) / 65536 AS hp,
        ((number / 5) * 3266489917 % 4294967296) / 65536 AS h1,
        ((number / 5) * 668265263 % 4294967296) / 65536 AS h2,
        ((number / 5) * 2246822519 % 4294967296) / 65536 AS h3
    FROM n
)
INSERT INTO events (event_id, site_id, type, ts, received_at, host, path, referrer_host, source,
    visitor_key, key_version, session_id, consent, browser, os, device, country, name, props, engaged_ms, bot)
SELECT
    printf('bench-%d', number), ?1, CASE WHEN number % 5 = 4 THEN 'event' ELSE 'pageview' END, t, t, 'demo.footfall.test',
    json_extract('["/", "/pricing", "/blog/a", "/blog/b", "/docs", "/about", "/signup", "/contact"]', printf('$[%d]', hp % 8)),
    json_extract('["", "google.com", "news.ycombinator.com", "twitter.com", "mail.example"]', printf('$[%d]', v % 5)),
    json_extract('["direct", "google", "hackernews", "twitter", "newsletter"]', printf('$[%d]', v % 5)),
    v / 12 + 1, 1, v + 1, 1,
    json_extract('["Chrome", "Firefox", "Safari"]', printf('$[%d]', h1 % 3)),
    json_extract('["Windows", "Android", "iOS"]', printf('$[%d]', h1 % 3)),
    json_extract('["desktop", "mobile", "tablet"]', printf('$[%d]', h1 % 3)),
    json_extract('["DE", "US", "FR", "GB", "NL", "IT", "ES"]', printf('$[%d]', h2 % 7)),
    CASE WHEN number % 5 = 4 THEN 'signup' ELSE '' END,
    CASE WHEN number % 5 = 4 THEN json_array(json_array('plan', json_extract('["free", "pro", "team"]', printf('$[%d]', h3 % 3)))) ELSE '[]' END,
    number % 7 * 1000, 0
FROM g
