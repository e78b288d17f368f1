-- Every event a consent id allowed, by time; columns as in events.sql.
SELECT
    {{event_columns}}
FROM events FINAL
WHERE consent_id = toUUID(?)
ORDER BY ts, toString(event_id);
