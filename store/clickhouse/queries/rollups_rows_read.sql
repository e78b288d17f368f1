-- Raw events (bots included) and consent records per window of one site in
-- [@from, @to): the run log's rows read. Without FINAL: a replayed event not
-- yet merged away is read twice, and counting it so is cheaper.
SELECT win, count()
FROM
(
    SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win
    FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
    UNION ALL
    SELECT if(@hourly = 1, toUInt32(toStartOfHour(ts)), toUInt32(toStartOfDay(ts, @tz))) AS win
    FROM consent_ledger
    WHERE site_id = @site AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
)
GROUP BY win;
