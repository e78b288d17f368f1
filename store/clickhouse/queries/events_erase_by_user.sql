ALTER TABLE events DELETE WHERE user_id = ?;
