INSERT OR IGNORE INTO policy_versions (site_id, version, since) VALUES (?, ?, ?)
