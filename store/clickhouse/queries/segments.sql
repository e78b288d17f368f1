SELECT id, site_id, name, filters, author, created_at
FROM segments FINAL
WHERE site_id = ? AND deleted = 0
ORDER BY name, id;
