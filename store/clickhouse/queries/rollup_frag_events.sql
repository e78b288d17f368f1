-- Fragment: the events of one site in [@from, @to) (Unix seconds), bots
-- left out, each with its window (@hourly = 1: UTC hours; else days in
-- @tz), its visit number and an order key. Visits: events with a session id
-- form one visit per window; events without one are split into visits by
-- store.SessionTimeout (1800 s) of inactivity per visitor key. sess is 0
-- for session-id visits, else the number of visit starts at or before the
-- event. k orders events by time, then type (pageview first), so a visit's
-- first and last events are the same on every backend. @exclude_gpc = 1
-- drops every visitor key that had Global Privacy Control on in the range.
-- E-mail events (email_open, email_click) are no part of any visit: they
-- have their own rows (rollups_insert_email.sql).
-- The arrayResize hands t to the lambda as an argument: 18.16 does not see
-- columns used only inside a lambda and would drop t from the subquery. The
-- visit starts are read without FINAL: a replayed event repeats a time and
-- starts no visit. c_<column> is each column a session dimension reads, as a
-- String (the lists are expanded from store.Dimensions at start-up).
SELECT win, visitor_key, session_id, t, k, etype, path,[[range .Columns]] c_[[.]],[[end]] name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth,
       if(session_id = 0, arrayCount((b, x) -> b <= x, starts, arrayResize(emptyArrayUInt32(), length(starts), t)), 0) AS sess
FROM
(
    SELECT win, visitor_key, session_id, t, k, etype, path,[[range .Columns]] c_[[.]],[[end]] name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth, starts
    FROM
    (
        SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
               visitor_key, session_id, toUInt32(ts) AS t, toUInt64(t) * 8 + toUInt64(toUInt8(type)) AS k,
               toString(type) AS etype, path,[[range .Columns]] toString([[.]]) AS c_[[.]],[[end]]
               name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth
        FROM events FINAL
        WHERE site_id = @site
          AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
          AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
          AND bot = 0 AND type NOT IN ('email_open', 'email_click')
          AND (@exclude_gpc = 0 OR visitor_key NOT IN
          (
              SELECT visitor_key FROM events
              WHERE site_id = @site
                AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
                AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
                AND gpc = 1
          ))
    )
    ANY LEFT JOIN
    (
        SELECT win, visitor_key, session_id,
               arrayFilter((x, i) -> i = 1 OR x > tss[i - 1] + 1800, tss, arrayEnumerate(tss)) AS starts
        FROM
        (
            SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
                   visitor_key, session_id, arraySort(groupArray(toUInt32(ts))) AS tss
            FROM events
            WHERE site_id = @site
              AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
              AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
              AND bot = 0 AND type NOT IN ('email_open', 'email_click') AND session_id = 0
            GROUP BY win, visitor_key, session_id
        )
    ) USING (win, visitor_key, session_id)
)
