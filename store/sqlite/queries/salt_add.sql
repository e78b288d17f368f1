INSERT INTO salts (day, secret, created_at) VALUES (?, ?, ?)
