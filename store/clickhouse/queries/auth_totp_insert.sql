INSERT INTO auth_totp (user_id, secret, created_at, deleted, version);
