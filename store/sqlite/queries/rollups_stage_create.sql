-- The stage a ReplaceRollups computes into: temporary tables of its own
-- connection, so computing takes no write lock on the database file. The
-- visits and their values are staged by stageVisits (sessionise.go).
CREATE TEMP TABLE IF NOT EXISTS rollups_stage AS SELECT * FROM main.rollups WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS consent_rollups_stage AS SELECT * FROM main.consent_rollups WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS visits_stage AS SELECT *, '' AS touched FROM main.visits WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS visit_values_stage AS SELECT * FROM main.visit_values WHERE 0;
CREATE INDEX IF NOT EXISTS temp.visits_stage_id ON visits_stage (id);
DELETE FROM temp.rollups_stage;
DELETE FROM temp.consent_rollups_stage;
DELETE FROM temp.visits_stage;
DELETE FROM temp.visit_values_stage;
