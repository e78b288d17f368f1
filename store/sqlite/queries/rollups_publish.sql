-- Replaces a ReplaceRollups' windows by its stage, in the short write
-- transaction that follows the computing. Staged visits are numbered from
-- 1; they are published above the highest visit id, their values first
-- (while that id is still the highest).
DELETE FROM rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
DELETE FROM consent_rollups
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
DELETE FROM visit_values WHERE visit_id IN (
    SELECT id FROM visits
    WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to);
DELETE FROM visits
WHERE site_id = :site AND granularity = :granularity AND window_start >= :from AND window_start < :to;
INSERT INTO rollups SELECT * FROM temp.rollups_stage;
INSERT INTO consent_rollups SELECT * FROM temp.consent_rollups_stage;
INSERT INTO visit_values (visit_id, dimension, value, pageviews, events, engaged_ms)
SELECT s.visit_id + b.base, s.dimension, s.value, s.pageviews, s.events, s.engaged_ms
FROM temp.visit_values_stage s, (SELECT COALESCE(MAX(id), 0) AS base FROM main.visits) b;
INSERT INTO visits (id, site_id, granularity, window_start, visitor_key, session_id, visit, visit_start,
                    pageviews, events, bounce, duration_s, engaged_ms, session, touched_version, partial, run_version)
SELECT s.id + b.base, s.site_id, s.granularity, s.window_start, s.visitor_key, s.session_id, s.visit, s.visit_start,
       s.pageviews, s.events, s.bounce, s.duration_s, s.engaged_ms, s.session, s.touched_version, s.partial, s.run_version
FROM temp.visits_stage s, (SELECT COALESCE(MAX(id), 0) AS base FROM main.visits) b;
DELETE FROM temp.rollups_stage;
DELETE FROM temp.consent_rollups_stage;
DELETE FROM temp.visits_stage;
DELETE FROM temp.visit_values_stage;
