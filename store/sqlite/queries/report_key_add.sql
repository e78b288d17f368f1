INSERT OR IGNORE INTO report_keys (id, secret, created_at) VALUES (?, ?, ?)
