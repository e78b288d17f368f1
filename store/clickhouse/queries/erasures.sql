-- The latest state of each erasure request since a time.
SELECT consent_id, requested_at, max(done_at), max(erased) FROM erasures WHERE requested_at >= ? GROUP BY consent_id, requested_at ORDER BY requested_at, consent_id;
