-- The rowids of events past their keeping time in one slice (see Store.inSlices).
SELECT rowid FROM events WHERE rowid > :lo AND rowid <= :hi AND ts < :before
