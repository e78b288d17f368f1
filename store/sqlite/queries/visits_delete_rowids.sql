-- Deletes the visit rows of a JSON array of rowids, their touched values first
-- (see Store.inSlices).
DELETE FROM visit_values WHERE visit_id IN (SELECT value FROM json_each(:rowids));
DELETE FROM visits WHERE id IN (SELECT value FROM json_each(:rowids));
