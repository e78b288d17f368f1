SELECT id, secret_hash, name, role, partner, all_sites, sites, created_at, last_used, revoked_at FROM auth_tokens ORDER BY created_at, id
