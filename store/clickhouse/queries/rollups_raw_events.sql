-- The pageviews and events the totals rows of one site's rollups count in
-- [@from, @to): the raw events a report of that period would read
-- (store/clickhouse/visits.go RawEvents, the sampling threshold).
SELECT toUInt64(sum(pageviews) + sum(events))
FROM rollups
WHERE site_id = @site AND granularity = @granularity AND dimension = ''
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC');
