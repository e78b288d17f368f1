-- Fragment, a select list over events: an event's window (@hourly = 1:
-- UTC hours; else days in @tz), its time t and its order key k: time, then
-- type (pageview first), so a visit's first and last events are the same
-- on every backend, and the columns the rollups read. c_<column> is each
-- column a session dimension reads, as a String (the lists are expanded
-- from store.Dimensions at start-up).
if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
visitor_key, session_id, toUInt32(ts) AS t, toUInt64(t) * 8 + toUInt64(toUInt8(type)) AS k,
toString(type) AS etype, path,[[range .Columns]] toString([[.]]) AS c_[[.]],[[end]]
name, target, prop_keys, prop_values, engaged_ms, revenue_amount, revenue_currency, scroll_depth
