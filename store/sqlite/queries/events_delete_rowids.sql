-- Deletes the events of a JSON array of rowids (see Store.inSlices).
DELETE FROM events WHERE rowid IN (SELECT value FROM json_each(:rowids))
