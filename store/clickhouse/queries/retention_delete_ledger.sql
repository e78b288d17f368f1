ALTER TABLE consent_ledger DELETE WHERE ts < ?;
