-- Share links: read-only links to a site's anonymised release. The secret
-- part of a link is stored as its SHA-256, a password as an argon2id hash.
-- A revoked link keeps its row (revoked_at > 0) so that it stays listed.
-- frame_ancestors is a JSON array of origins. Times are Unix seconds (UTC);
-- expires_at 0 is never.
CREATE TABLE IF NOT EXISTS share_links (
    id              TEXT PRIMARY KEY,
    secret_hash     TEXT NOT NULL,
    site_id         INTEGER NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL DEFAULT '',
    embed           INTEGER NOT NULL DEFAULT 0,
    frame_ancestors TEXT NOT NULL DEFAULT '[]',
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL DEFAULT 0,
    revoked_at      INTEGER NOT NULL DEFAULT 0
);
