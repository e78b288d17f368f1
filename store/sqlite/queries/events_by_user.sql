SELECT
    {{event_columns}}
FROM events
WHERE user_id = :user
ORDER BY ts, event_id
