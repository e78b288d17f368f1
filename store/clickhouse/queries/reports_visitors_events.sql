-- Distinct visitor keys per value of one event dimension over [@from, @to)
-- (store.ValueVisitorQuery): every event belongs to a visit, so a visitor
-- counts under each value one of its events has ({{COLUMN}}: path, name
-- or target; names and targets only when set), without building visits.
-- No FINAL: a replayed event changes no distinct count.
SELECT value, uniqExact(visitor_key)
FROM
(
    SELECT visitor_key, toString({{COLUMN}}) AS value
    FROM events
    WHERE site_id = @site
      AND date >= toDate(toDateTime(@from, 'UTC')) AND date <= toDate(toDateTime(@to, 'UTC'))
      AND ts >= toDateTime(@from, 'UTC') AND ts < toDateTime(@to, 'UTC')
      AND bot = 0 AND type NOT IN ('email_open', 'email_click')
)
WHERE @page = 1 OR value != ''
GROUP BY value;
