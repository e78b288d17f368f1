-- Share links: read-only links to a site's anonymised release. The secret
-- part of a link is stored as its SHA-256, a password as an argon2id hash.
-- A ReplacingMergeTree read with FINAL, as auth_tokens (004): a revocation
-- is a newer row with revoked = 1 and a version above every ordinary one
-- (2^63 + nanoseconds), so nothing racing it can bring the link back.
-- expires_at 1970-01-01 is never.
CREATE TABLE IF NOT EXISTS share_links
(
    id              String,
    secret_hash     String,
    site_id         UInt32,
    name            String,
    password_hash   String,
    embed           UInt8,
    frame_ancestors Array(String),
    created_by      String,
    created_at      DateTime('UTC'),
    expires_at      DateTime('UTC'),
    revoked         UInt8,
    revoked_at      DateTime('UTC'),
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
