INSERT INTO goals (id, site_id, name, page, event, props, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, page = excluded.page, event = excluded.event, props = excluded.props
