INSERT INTO erasures (consent_id, requested_at, done_at, erased) VALUES (?, ?, ?, ?)
