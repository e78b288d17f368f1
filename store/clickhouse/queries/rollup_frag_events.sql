-- Fragment: the events of rollup_frag_event_scan.sql, each with its visit
-- number. Visits: events with a session id form one visit per window;
-- events without one are split into visits by store.SessionTimeout (1800
-- s) of inactivity per visitor key (rollup_frag_visit_starts.sql,
-- rollup_frag_visit_number.sql). E-mail events (email_open, email_click)
-- are no part of any visit: they have their own rows
-- (rollups_insert_email.sql). The visit starts are read without FINAL: a
-- replayed event repeats a time and starts no visit. The aggregation cuts
-- its visit rows by the same rules in Go (store.CutVisits).
SELECT win, visitor_key, session_id, t, k, etype, path,[[range .Columns]] c_[[.]],[[end]] name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth,
       {{visit_number}} AS sess
FROM
(
    SELECT win, visitor_key, session_id, t, k, etype, path,[[range .Columns]] c_[[.]],[[end]] name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth, starts
    FROM ({{event_scan}})
    ANY LEFT JOIN
    (
        SELECT win, visitor_key, session_id, {{visit_starts}} AS starts
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
