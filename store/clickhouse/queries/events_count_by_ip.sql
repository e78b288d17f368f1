SELECT count() FROM events FINAL WHERE site_id = ? AND ip = ?;
