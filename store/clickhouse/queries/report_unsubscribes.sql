SELECT site_id, recipient, min(at) FROM report_unsubscribes WHERE site_id = ? GROUP BY site_id, recipient ORDER BY recipient;
