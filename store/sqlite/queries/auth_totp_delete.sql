DELETE FROM auth_totp WHERE user_id = ?
