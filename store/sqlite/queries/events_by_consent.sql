SELECT
    {{event_columns}}
FROM events
WHERE consent_id = :consent
ORDER BY ts, event_id
