UPDATE auth_sessions SET expires_at = ? WHERE id = ? AND expires_at < ?
