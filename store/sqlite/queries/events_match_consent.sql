-- The rowids of a subject's events in one slice (see Store.inSlices); the consent_id index finds them.
SELECT rowid FROM events WHERE consent_id = :consent AND rowid > :lo AND rowid <= :hi
