INSERT OR IGNORE INTO report_unsubscribes (site_id, recipient, at) VALUES (?, ?, ?)
