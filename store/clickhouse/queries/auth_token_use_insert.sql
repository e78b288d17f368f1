INSERT INTO auth_token_uses (token_id, used_at);
