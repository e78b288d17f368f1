INSERT INTO auth_users (id, email, password_hash, role, partner, all_sites, sites, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
