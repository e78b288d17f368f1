-- Fragment: one row per visit of [@from, @to) as one window, with its
-- visitor key and its value of one session dimension: the rollup
-- fragments' visits, found in one pass. Per visitor key and session id the
-- events are sorted by k (time, then type, as the fragments order them); a
-- session id is one visit, events without one start a visit after 1800 s
-- of inactivity. A visit's value is its first event's (@last = 0) or its
-- last event's ({{COLUMN}} is path, @last = 1: the exit page). No FINAL: a
-- replayed event repeats a time and a value, which changes no visit's first
-- or last value and no distinct count. The arrayResize hands the session
-- flag to the lambda as an argument: 18.16 does not see columns used only
-- inside a lambda.
SELECT visitor_key, evs,
       arrayJoin(arrayMap(e -> e.3, arrayFilter(
           (e, i, gaps) -> if(@last = 1,
               i = length(evs) OR (gaps = 1 AND evs[i + 1].2 > e.2 + 1800),
               i = 1 OR (gaps = 1 AND e.2 > evs[i - 1].2 + 1800)),
           evs, arrayEnumerate(evs), arrayResize(emptyArrayUInt8(), length(evs), gaps)))) AS value
FROM
(
    SELECT visitor_key, toUInt8(session_id = 0) AS gaps,
           arraySort(groupArray((toUInt64(toUInt32(ts)) * 8 + toUInt64(toUInt8(type)), toUInt32(ts), toString({{COLUMN}})))) AS evs
    FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
      AND bot = 0 AND type NOT IN ('email_open', 'email_click')
    GROUP BY visitor_key, session_id
)
