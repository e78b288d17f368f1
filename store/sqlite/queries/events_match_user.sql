-- The rowids of a subject's events in one slice (see Store.inSlices): no index on user_id.
SELECT rowid FROM events WHERE rowid > :lo AND rowid <= :hi AND user_id = :user
