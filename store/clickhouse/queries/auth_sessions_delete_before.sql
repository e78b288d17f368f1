-- Every version of a session shares its created_at, so whole sessions go.
-- An asynchronous mutation; nothing waits for it (expired sessions are
-- refused whether or not their rows remain).
ALTER TABLE auth_sessions DELETE WHERE created_at < toDateTime(?, 'UTC');
