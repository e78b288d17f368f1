-- Raw events (bots included) and consent records per window.
WITH wins AS (
    SELECT json_extract(value, '$[0]') AS ws, json_extract(value, '$[1]') AS we FROM json_each(:windows)
)
SELECT w.ws,
       (SELECT COUNT(*) FROM events WHERE site_id = :site AND ts >= w.ws AND ts < w.we)
     + (SELECT COUNT(*) FROM consent_ledger WHERE site_id = :site AND ts >= w.ws AND ts < w.we)
FROM wins w
