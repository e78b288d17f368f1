INSERT INTO report_unsubscribes (site_id, recipient, at);
