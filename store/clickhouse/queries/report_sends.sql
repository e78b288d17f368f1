SELECT site_id, schedule, from_day, recipient, min(sent_at) FROM report_sends WHERE site_id = ? AND schedule = ? AND from_day = ? GROUP BY site_id, schedule, from_day, recipient ORDER BY recipient;
