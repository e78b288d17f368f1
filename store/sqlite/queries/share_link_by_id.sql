SELECT id, secret_hash, site_id, name, password_hash, embed, frame_ancestors, created_by, created_at, expires_at, revoked_at FROM share_links WHERE id = ?
