UPDATE auth_tokens SET last_used = ? WHERE id = ? AND last_used < ?
