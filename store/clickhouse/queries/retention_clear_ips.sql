ALTER TABLE events UPDATE ip = '' WHERE ts < ? AND ip != '';
