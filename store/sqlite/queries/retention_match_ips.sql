-- The rowids of events whose IP is past its keeping time in one slice (see Store.inSlices).
SELECT rowid FROM events WHERE rowid > :lo AND rowid <= :hi AND ts < :before AND ip != ''
