INSERT INTO segments (id, site_id, name, filters, author, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, filters = excluded.filters
