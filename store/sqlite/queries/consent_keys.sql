SELECT kid, secret, created_at, retired FROM consent_keys ORDER BY created_at, kid
