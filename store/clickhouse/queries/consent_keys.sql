SELECT kid, secret, created_at, retired FROM consent_keys FINAL ORDER BY created_at, kid;
