-- One row even without uses: max of nothing is 1970-01-01 00:00:00.
SELECT max(used_at) FROM auth_token_uses WHERE token_id = ?;
