-- Deletes the visit rows, and their touched values, of the visitor keys of
-- the events of a JSON array of rowids (see Store.inSlices): a subject's,
-- before its events are erased. Events without a visitor key (e-mail)
-- name no visit.
DELETE FROM visit_values WHERE visit_id IN (
    SELECT id FROM visits WHERE visitor_key IN (
        SELECT visitor_key FROM events WHERE rowid IN (SELECT value FROM json_each(:rowids)) AND visitor_key != 0));
DELETE FROM visits WHERE visitor_key IN (
    SELECT visitor_key FROM events WHERE rowid IN (SELECT value FROM json_each(:rowids)) AND visitor_key != 0);
