-- The rowids of visit rows past the raw events' keeping time in one slice
-- (see Store.inSlices).
SELECT rowid FROM visits WHERE rowid > :lo AND rowid <= :hi AND visit_start < :before
