INSERT INTO auth_sessions (id, user_id, created_at, expires_at, deleted, version);
