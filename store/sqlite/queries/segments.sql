SELECT id, site_id, name, filters, author, created_at
FROM segments
WHERE site_id = ?
ORDER BY name, id
