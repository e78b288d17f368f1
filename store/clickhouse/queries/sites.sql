SELECT site_id, domain, created_at
FROM sites
ORDER BY domain, site_id;
