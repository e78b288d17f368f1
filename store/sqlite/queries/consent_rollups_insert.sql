-- Counts the consent ledger's records of one site per window and category,
-- as the ClickHouse query of the same name does.
WITH wins AS (
    SELECT json_extract(value, '$[0]') AS ws, json_extract(value, '$[1]') AS we FROM json_each(:windows)
),
cats(name, bit) AS (VALUES ('analytics', 1), ('personalization', 2), ('marketing', 4)),
recs AS (
    SELECT w.ws AS win, l.action, l.granted, l.gpc, l.action NOT IN ('withdraw', 'expire') AS decision
    -- The windows bound ts, not :from and :to (rollup_frag_period_events.sql says why).
    FROM wins w JOIN consent_ledger l ON l.ts >= w.ws AND l.ts < w.we
    WHERE l.site_id = :site
)
INSERT INTO temp.consent_rollups_stage (
    site_id, granularity, window_start, category, decisions, granted, denied, withdrawn, gpc, partial, run_version
)
SELECT :site, :granularity, win, c.name,
       SUM(decision), SUM(decision AND (granted & c.bit) != 0), SUM(decision AND (granted & c.bit) = 0),
       SUM(action = 'withdraw'), SUM(decision AND gpc = 1), :partial, :version
FROM recs JOIN cats c
GROUP BY win, c.name
