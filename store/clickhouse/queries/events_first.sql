-- The time of a site's first event, and how many it has (0: none).
SELECT min(ts), count() FROM events WHERE site_id = @site;
