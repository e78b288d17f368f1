SELECT id, site_id, toString(day), text, author, created_at
FROM annotations FINAL
WHERE site_id = ? AND deleted = 0
ORDER BY day, created_at, id;
