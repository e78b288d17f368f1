-- The last rowid of consent_ledger: where Store.inSlices stops.
SELECT COALESCE(MAX(rowid), 0) FROM consent_ledger
