-- Cluster mode: retention_old_partitions over every node of the cluster
-- (bound: cluster name, database, table, month).
SELECT DISTINCT toUInt32(partition) FROM cluster(?, system, parts)
WHERE database = ? AND table = ? AND active AND toUInt32(partition) < ?
ORDER BY toUInt32(partition);
