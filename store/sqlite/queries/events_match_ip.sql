-- The rowids of a subject's events in one slice (see Store.inSlices): no index on ip.
SELECT rowid FROM events WHERE rowid > :lo AND rowid <= :hi AND site_id = :site AND ip = :ip
