-- Clears the IP of the events of a JSON array of rowids (see Store.inSlices).
UPDATE events SET ip = '' WHERE rowid IN (SELECT value FROM json_each(:rowids))
