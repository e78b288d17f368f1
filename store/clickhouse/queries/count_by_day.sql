-- Pageviews of one site in [from, to) by event time, per UTC day, in date
-- order. Arguments: site id, from, to, from, to (as in events.sql). FINAL
-- counts a replayed event once.
SELECT toString(date) AS group_key, count() AS pageviews
FROM events FINAL
WHERE site_id = ?
  AND date >= toDate(?) AND date <= toDate(?)
  AND ts >= ? AND ts < ?
  AND type = 'pageview'
GROUP BY date
ORDER BY date ASC;
