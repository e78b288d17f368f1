SELECT id, partner, from_day, to_day, epsilon, created_at, body
FROM partner_releases
WHERE partner = ? AND from_day = ? AND to_day = ?
ORDER BY created_at, toString(id)
LIMIT 1;
