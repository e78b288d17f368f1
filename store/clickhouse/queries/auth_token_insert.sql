INSERT INTO auth_tokens (id, secret_hash, name, role, partner, all_sites, sites, created_at, revoked, revoked_at, version);
