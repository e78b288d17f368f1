SELECT count() FROM events WHERE ts < ?;
