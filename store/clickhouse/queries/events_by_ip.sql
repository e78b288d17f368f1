-- Every event of one raw IP on one site, by time; columns as in events.sql.
SELECT
    {{event_columns}}
FROM events FINAL
WHERE site_id = ? AND ip = ?
ORDER BY ts, toString(event_id);
