-- The stage a ReplaceRollups computes into: temporary tables of its own
-- connection, so computing takes no write lock on the database file.
CREATE TEMP TABLE IF NOT EXISTS rollups_stage AS SELECT * FROM main.rollups WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS consent_rollups_stage AS SELECT * FROM main.consent_rollups WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS visits_stage AS SELECT * FROM main.visits WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS visit_values_stage AS SELECT * FROM main.visit_values WHERE 0;
CREATE INDEX IF NOT EXISTS temp.visits_stage_key ON visits_stage (window_start, visitor_key, session_id, visit);
DELETE FROM temp.rollups_stage;
DELETE FROM temp.consent_rollups_stage;
DELETE FROM temp.visits_stage;
DELETE FROM temp.visit_values_stage;
