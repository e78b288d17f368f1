SELECT id, user_id, created_at, expires_at, deleted
FROM auth_sessions FINAL
WHERE id = ?;
