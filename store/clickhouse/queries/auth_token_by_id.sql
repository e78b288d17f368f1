SELECT id, secret_hash, name, role, partner, all_sites, sites, created_at, revoked, revoked_at
FROM auth_tokens FINAL
WHERE id = ?;
