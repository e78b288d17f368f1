-- Distinct visitor keys per value of one dimension (:dims holds it) over
-- [:from, :to) as one window (store.ValueVisitorQuery), by the rollups'
-- rules (the rows fragment).
WITH {{rows}}
SELECT val, COUNT(DISTINCT visitor_key) FROM rollup_rows GROUP BY val
