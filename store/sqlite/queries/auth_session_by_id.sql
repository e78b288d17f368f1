SELECT id, user_id, created_at, expires_at FROM auth_sessions WHERE id = ?
