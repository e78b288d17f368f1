-- The visitor sketches of a ReplaceRollups' windows, from the visit rows
-- it has just inserted (through the Distributed table in cluster mode: the
-- shards' partial states merge into one per window).
INSERT INTO visitor_sketches (site_id, granularity, window_start, visitors, run_version)
SELECT site_id, granularity, window_start, uniqCombinedState(visitor_key), toUInt64(@version)
FROM visits
WHERE site_id = @site AND granularity = @granularity
  AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
  AND visitor_key != 0
GROUP BY site_id, granularity, window_start;
