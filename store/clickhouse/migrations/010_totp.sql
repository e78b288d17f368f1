-- Users' second sign-in factor: the base32 secret shared with an
-- authenticator app (RFC 6238). A ReplacingMergeTree read with FINAL, as
-- auth_users (004): enrolling again is a newer row, removing the factor a
-- newer row with deleted = 1 and no secret (an ordinary version, so that
-- the user can enrol again).
CREATE TABLE IF NOT EXISTS auth_totp
(
    user_id    String,
    secret     String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;
