SELECT consent_id, ts, toUInt8(1) AS withdrawn, toUInt8(0) AS granted FROM consent_ledger WHERE action = 'withdraw' AND ts >= ?
UNION ALL
SELECT consent_id, ts, toUInt8(0) AS withdrawn, granted FROM consent_updates WHERE ts >= ?;
