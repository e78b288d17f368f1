DELETE FROM auth_sessions WHERE created_at < ?
