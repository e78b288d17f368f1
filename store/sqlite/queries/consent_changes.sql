SELECT consent_id, ts, 1 AS withdrawn, 0 AS granted FROM consent_ledger WHERE action = 'withdraw' AND ts >= ?
UNION ALL
SELECT consent_id, ts, 0 AS withdrawn, granted FROM consent_updates WHERE ts >= ?
