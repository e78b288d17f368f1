-- Cluster mode: pending mutations of a local table on every node of the
-- cluster (bound: cluster name, database, table).
SELECT count() FROM cluster(?, system, mutations) WHERE database = ? AND table = ? AND is_done = 0;
