SELECT id, any(secret), min(created_at) AS created FROM report_keys GROUP BY id ORDER BY created, id;
