SELECT id, email, password_hash, role, partner, all_sites, sites, created_at, deleted
FROM auth_users FINAL
WHERE id = ?;
