SELECT user_id, secret, created_at, deleted
FROM auth_totp FINAL
WHERE user_id = ?;
