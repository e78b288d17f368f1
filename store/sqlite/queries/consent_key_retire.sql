UPDATE consent_keys SET retired = 1 WHERE kid = ?
