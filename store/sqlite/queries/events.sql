SELECT
    {{event_columns}}
FROM events
WHERE site_id = ? AND ts >= ? AND ts < ?
ORDER BY ts, event_id
