UPDATE events SET ip = '' WHERE ts < ? AND ip != ''
