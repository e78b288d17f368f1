SELECT count(*) FROM events WHERE ts < ? AND ip != ''
