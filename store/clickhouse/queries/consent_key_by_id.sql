SELECT kid, secret, created_at, retired FROM consent_keys FINAL WHERE kid = ?;
