SELECT id, site_id, name, page, event, props, author, created_at
FROM goals
WHERE site_id = ?
ORDER BY name, id
