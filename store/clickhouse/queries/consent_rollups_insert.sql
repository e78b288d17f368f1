-- Counts the consent ledger's records of one site per window and category.
-- A decision is any record but withdraw and expire; a withdrawal revokes
-- every category, so it counts in each.
INSERT INTO consent_rollups
(
    site_id, granularity, window_start, category, decisions, granted, denied, withdrawn, gpc, partial, run_version
)
SELECT toUInt32(@site), CAST(@granularity AS Enum8('hour' = 1, 'day' = 2)), toDateTime(win, 'UTC'), c.1 AS category,
       countIf(decision), countIf(decision AND bitAnd(granted, c.2) != 0), countIf(decision AND bitAnd(granted, c.2) = 0),
       countIf(act = 'withdraw'), countIf(decision AND gpc = 1), toUInt8(@partial), toUInt64(@version)
FROM
(
    SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win,
           toString(action) AS act, granted, gpc, act NOT IN ('withdraw', 'expire') AS decision
    FROM consent_ledger
    WHERE site_id = @site AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
)
ARRAY JOIN [('analytics', toUInt8(1)), ('personalization', toUInt8(2)), ('marketing', toUInt8(4))] AS c
GROUP BY win, category;
