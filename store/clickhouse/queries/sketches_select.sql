-- Estimated distinct visitors per bucket: the sketches of one site and
-- granularity whose window starts in [@from, @to), merged per bucket (a
-- window belongs to the last of @buckets at or before it, as in
-- visits_breakdown.sql). FINAL: the newest run's sketch of each window.
SELECT bucket, uniqCombinedMerge(visitors)
FROM
(
    SELECT toUInt32(arrayElement(@buckets, toUInt64(arrayCount((x, w) -> x <= w, @buckets,
               arrayResize(emptyArrayUInt32(), length(@buckets), toUInt32(window_start)))))) AS bucket,
           visitors
    FROM visitor_sketches FINAL
    WHERE site_id = @site AND granularity = @granularity
      AND window_start >= toDateTime(@from, 'UTC') AND window_start < toDateTime(@to, 'UTC')
)
GROUP BY bucket;
