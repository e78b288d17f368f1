UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0
