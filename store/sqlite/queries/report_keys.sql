SELECT id, secret, created_at FROM report_keys ORDER BY created_at, id
