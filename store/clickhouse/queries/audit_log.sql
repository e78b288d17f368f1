SELECT ts, actor, action, target, detail FROM audit_log WHERE ts >= ? AND ts < ? ORDER BY ts, action LIMIT ?;
