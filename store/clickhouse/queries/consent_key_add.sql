INSERT INTO consent_keys (kid, secret, created_at, retired, version);
