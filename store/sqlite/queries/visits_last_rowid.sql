-- The last rowid of visits: where Store.inSlices stops.
SELECT COALESCE(MAX(rowid), 0) FROM visits
