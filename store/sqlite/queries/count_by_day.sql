SELECT strftime('%Y-%m-%d', ts, 'unixepoch') AS k, count(*) AS pageviews
FROM events
WHERE site_id = ? AND ts >= ? AND ts < ? AND type = 'pageview'
GROUP BY k
ORDER BY k ASC
