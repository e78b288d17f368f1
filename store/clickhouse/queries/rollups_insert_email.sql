-- Aggregates the e-mail dimensions of the windows of one site in
-- [@from, @to) into rollups: per window, the opens (email_open) and clicks
-- (email_click) of each campaign and link, under the value
-- store.EmailValue computes ("%" and "/" escaped in the campaign, then "/"
-- and the link id). Only events whose consent grants marketing (bit 4)
-- count, as the collector records no others. E-mail events carry no visitor
-- key and make no visit: visitors, visits and the visit metrics are zero.
-- A replayed event repeats its id, so counting distinct ids counts it once
-- without a FINAL read of the window's events.
INSERT INTO rollups
(
    site_id, granularity, window_start, dimension, value,
    visitors, visits, pageviews, events, bounces, duration_s, engaged_ms, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'), dim, value,
       toUInt64(0), toUInt64(0), toUInt64(0), uniqExact(event_id), toUInt64(0), toUInt64(0), toUInt64(0),
       toUInt8(@partial), toUInt64(@version)
FROM
(
    SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
           toString(type) AS dim,
           concat(replaceAll(replaceAll(toString(utm_campaign), '%', '%25'), '/', '%2F'), '/', utm_content) AS value, event_id
    FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
      AND bot = 0 AND type IN ('email_open', 'email_click') AND bitAnd(consent, 4) != 0
)
WHERE has(@dims, dim)
GROUP BY win, dim, value;
