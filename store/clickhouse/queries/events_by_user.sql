-- Every event of a signed-in user id, by time; columns as in events.sql.
SELECT
    {{event_columns}}
FROM events FINAL
WHERE user_id = ?
ORDER BY ts, toString(event_id);
