DELETE FROM consent_ledger WHERE ts < ?
