ALTER TABLE events DELETE WHERE site_id = ? AND ip = ?;
