SELECT site_id, recipient, at FROM report_unsubscribes WHERE site_id = ? ORDER BY recipient
