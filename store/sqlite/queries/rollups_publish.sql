-- Replaces a ReplaceRollups' windows by its stage, in the short write
-- transaction that follows the computing.
DELETE FROM rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
DELETE FROM consent_rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
INSERT INTO rollups SELECT * FROM temp.rollups_stage;
INSERT INTO consent_rollups SELECT * FROM temp.consent_rollups_stage;
DELETE FROM temp.rollups_stage;
DELETE FROM temp.consent_rollups_stage;
