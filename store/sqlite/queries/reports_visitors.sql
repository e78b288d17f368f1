-- The distinct visitor keys of a site's events in [:from, :to), bots and
-- e-mail opens and clicks (no visitor) left out (store.VisitorQuery).
SELECT COUNT(DISTINCT visitor_key) FROM events
WHERE site_id = :site AND ts >= :from AND ts < :to AND bot = 0
  AND type NOT IN ('email_open', 'email_click')
