-- Access control: users, API tokens and dashboard sessions. Passwords are
-- stored as argon2id hashes, token secrets and session ids as SHA-256
-- hashes; none of them is stored as given.
--
-- Each table is a ReplacingMergeTree on version, read with FINAL: a change
-- is a newer row of the same id. A deletion (a removed user, a revoked
-- token, a logged-out session) is a row with deleted = 1 (revoked = 1 for a
-- token, which stays listed) and a version of
-- 2^63 + nanoseconds, above any ordinary version (nanoseconds since 1970
-- stay below 2^63 until 2262), so no update racing it can undo it.
-- A site scope is all_sites = 1, or all_sites = 0 and the ids in sites.
CREATE TABLE IF NOT EXISTS auth_users
(
    id            String,
    email         String,
    password_hash String,
    role          String,
    partner       String,
    all_sites     UInt8,
    sites         Array(UInt32),
    created_at    DateTime('UTC'),
    deleted       UInt8,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS auth_tokens
(
    id          String,
    secret_hash String,
    name        String,
    role        String,
    partner     String,
    all_sites   UInt8,
    sites       Array(UInt32),
    created_at  DateTime('UTC'),
    revoked     UInt8,
    revoked_at  DateTime('UTC'),
    version     UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- When each token was last used: a row at most hourly per token, kept apart
-- from auth_tokens so that recording a use can never race a revocation.
CREATE TABLE IF NOT EXISTS auth_token_uses
(
    token_id String,
    used_at  DateTime('UTC')
)
ENGINE = ReplacingMergeTree(used_at)
ORDER BY token_id;

-- Dashboard sessions, keyed by the SHA-256 of the cookie's secret. Every
-- version of a session shares its created_at, so deleting by created_at
-- removes whole sessions.
CREATE TABLE IF NOT EXISTS auth_sessions
(
    id         String,
    user_id    String,
    created_at DateTime('UTC'),
    expires_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
