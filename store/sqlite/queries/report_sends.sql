SELECT site_id, schedule, from_day, recipient, sent_at FROM report_sends WHERE site_id = ? AND schedule = ? AND from_day = ? ORDER BY recipient
