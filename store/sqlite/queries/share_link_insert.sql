INSERT INTO share_links (id, secret_hash, site_id, name, password_hash, embed, frame_ancestors, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
