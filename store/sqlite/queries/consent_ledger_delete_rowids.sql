-- Deletes the ledger records of a JSON array of rowids (see Store.inSlices).
DELETE FROM consent_ledger WHERE rowid IN (SELECT value FROM json_each(:rowids))
