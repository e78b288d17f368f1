-- The last rowid of events: where Store.inSlices stops.
SELECT COALESCE(MAX(rowid), 0) FROM events
