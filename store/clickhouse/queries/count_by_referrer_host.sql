-- Pageviews of one site in [from, to) by event time, grouped by referrer_host.
-- Arguments: site id, from, to, from, to (as in events.sql). FINAL counts a
-- replayed event once.
SELECT referrer_host AS group_key, count() AS pageviews
FROM events FINAL
WHERE site_id = ?
  AND date >= toDate(?) AND date <= toDate(?)
  AND ts >= ? AND ts < ?
  AND type = 'pageview'
GROUP BY referrer_host
ORDER BY pageviews DESC, group_key ASC;
