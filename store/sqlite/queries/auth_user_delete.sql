DELETE FROM auth_users WHERE id = ?
