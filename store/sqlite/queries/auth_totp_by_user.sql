SELECT user_id, secret, created_at FROM auth_totp WHERE user_id = ?
