INSERT INTO audit_log (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)
