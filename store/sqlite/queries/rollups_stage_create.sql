-- The stage a ReplaceRollups computes into: temporary tables of its own
-- connection, so computing takes no write lock on the database file.
CREATE TEMP TABLE IF NOT EXISTS rollups_stage AS SELECT * FROM main.rollups WHERE 0;
CREATE TEMP TABLE IF NOT EXISTS consent_rollups_stage AS SELECT * FROM main.consent_rollups WHERE 0;
DELETE FROM temp.rollups_stage;
DELETE FROM temp.consent_rollups_stage;
