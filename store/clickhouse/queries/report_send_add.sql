INSERT INTO report_sends (site_id, schedule, from_day, recipient, sent_at);
