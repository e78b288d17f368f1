SELECT consent_id, ts FROM consent_ledger WHERE action = 'withdraw' AND ts >= ? ORDER BY ts;
