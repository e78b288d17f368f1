SELECT id, site_id, day, text, author, created_at
FROM annotations
WHERE site_id = ?
ORDER BY day, created_at, id
