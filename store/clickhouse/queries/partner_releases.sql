SELECT id, partner, from_day, to_day, epsilon, created_at, ''
FROM partner_releases
WHERE partner = ? AND created_at >= ?
ORDER BY created_at, toString(id);
