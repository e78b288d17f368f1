-- Whether a site has an event with revenue in [@from, @to): the goals
-- report asks for their revenue only then (one column read, stopping at
-- the first).
SELECT toUInt8(1) FROM events
WHERE site_id = @site
  AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
  AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
  AND revenue_currency != ''
LIMIT 1;
