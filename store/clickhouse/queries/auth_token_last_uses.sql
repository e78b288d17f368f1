SELECT token_id, max(used_at) FROM auth_token_uses GROUP BY token_id;
