SELECT id, site_id, name, page, event, props, author, created_at
FROM goals FINAL
WHERE site_id = ? AND deleted = 0
ORDER BY name, id;
