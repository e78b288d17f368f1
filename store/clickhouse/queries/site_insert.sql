INSERT INTO sites (site_id, domain, created_at);
