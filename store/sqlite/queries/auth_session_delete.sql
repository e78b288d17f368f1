DELETE FROM auth_sessions WHERE id = ?
