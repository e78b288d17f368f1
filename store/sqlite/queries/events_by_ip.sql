SELECT
    {{event_columns}}
FROM events
WHERE site_id = :site AND ip = :ip
ORDER BY ts, event_id
