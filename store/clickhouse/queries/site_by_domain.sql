SELECT site_id, domain, created_at
FROM sites
WHERE domain = ?
ORDER BY site_id
LIMIT 1;
