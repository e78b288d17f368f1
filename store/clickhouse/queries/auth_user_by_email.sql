-- email is not in the key, but every version of a user has the same email,
-- so filtering on it before or after FINAL's merge gives the same rows.
-- Deleted users are filtered in Go, after the merge.
SELECT id, email, password_hash, role, partner, all_sites, sites, created_at, deleted
FROM auth_users FINAL
WHERE email = ?
ORDER BY created_at, id;
