-- The rowids of ledger records past their keeping time in one slice (see Store.inSlices).
SELECT rowid FROM consent_ledger WHERE rowid > :lo AND rowid <= :hi AND ts < :before
