-- Access control: users, API tokens and dashboard sessions. Passwords are
-- stored as argon2id hashes, token secrets and session ids as SHA-256
-- hashes; none of them is stored as given. Times are Unix seconds (UTC).
-- A site scope is all_sites = 1, or all_sites = 0 and the site ids in
-- sites, comma-separated.
CREATE TABLE IF NOT EXISTS auth_users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    partner       TEXT NOT NULL DEFAULT '',
    all_sites     INTEGER NOT NULL,
    sites         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);

-- API tokens. A revoked token keeps its row (revoked_at > 0) so that
-- footfall token list shows it; last_used is updated at most hourly.
CREATE TABLE IF NOT EXISTS auth_tokens (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    partner     TEXT NOT NULL DEFAULT '',
    all_sites   INTEGER NOT NULL,
    sites       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    last_used   INTEGER NOT NULL DEFAULT 0,
    revoked_at  INTEGER NOT NULL DEFAULT 0
);

-- Dashboard sessions, keyed by the SHA-256 of the cookie's secret. A
-- logout deletes the row.
CREATE TABLE IF NOT EXISTS auth_sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_created ON auth_sessions (created_at);
