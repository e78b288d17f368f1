SELECT count(*) FROM consent_ledger WHERE ts < ?
