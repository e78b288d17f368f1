-- The distinct visitor keys of a site's events in [:from, :to), bots left
-- out (store.VisitorQuery).
SELECT COUNT(DISTINCT visitor_key) FROM events
WHERE site_id = :site AND ts >= :from AND ts < :to AND bot = 0
