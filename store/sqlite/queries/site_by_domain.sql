SELECT site_id, domain, created_at FROM sites WHERE domain = ?
