-- Partitions (toYYYYMM months) wholly before the cutoff month: dropped whole,
-- which is cheaper than a mutation.
SELECT DISTINCT toUInt32(partition) FROM system.parts
WHERE database = currentDatabase() AND table = ? AND active AND toUInt32(partition) < ?
ORDER BY toUInt32(partition);
