DELETE FROM events WHERE ts < ?
