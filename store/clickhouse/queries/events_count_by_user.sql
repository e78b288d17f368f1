SELECT count() FROM events FINAL WHERE user_id = ?;
