DELETE FROM auth_sessions WHERE user_id = ?
