-- The events one ReplaceRollups cuts its visit rows from (insertVisits,
-- sessionise.go): those of rollup_frag_scan_range.sql, each with its window
-- and the columns a visit row reads (rollup_frag_scan_columns.sql: the
-- session dimensions' columns as c_<column>, expanded from store.Dimensions
-- at start-up, in the order of store.SessionColumns). No FINAL:
-- store.CutVisits drops a replayed event's copies, which share its id.
SELECT win, visitor_key, session_id, t, etype, toString(event_id), path, name, target, prop_keys, prop_values,
       toUInt64(engaged_ms)[[range .Columns]], c_[[.]][[end]]
FROM (SELECT {{scan_columns}}, event_id FROM events WHERE {{scan_range}})
