DELETE FROM events WHERE site_id = ? AND ip = ?
