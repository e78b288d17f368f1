SELECT id, email, password_hash, role, partner, all_sites, sites, created_at FROM auth_users ORDER BY email
