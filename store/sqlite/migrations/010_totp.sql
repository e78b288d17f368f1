-- Users' second sign-in factor: the base32 secret shared with an
-- authenticator app (RFC 6238). One row per user who enrolled; deleting the
-- user deletes it. Times are Unix seconds (UTC).
CREATE TABLE IF NOT EXISTS auth_totp (
    user_id    TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
