INSERT INTO report_keys (id, secret, created_at);
