INSERT INTO annotations (id, site_id, day, text, author, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET day = excluded.day, text = excluded.text
