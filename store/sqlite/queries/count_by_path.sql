SELECT path AS k, count(*) AS pageviews
FROM events
WHERE site_id = ? AND ts >= ? AND ts < ? AND type = 'pageview'
GROUP BY k
ORDER BY pageviews DESC, k ASC
