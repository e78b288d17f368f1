DELETE FROM events WHERE consent_id = ?
