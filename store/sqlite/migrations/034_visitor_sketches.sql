-- Visitor sketches (store/sketches.go): per window, a HyperLogLog sketch
-- of its visit rows' distinct visitor keys (github.com/axiomhq/hyperloglog,
-- 2^14 registers, its binary form), written by ReplaceRollups with the
-- window's rollups and kept like them: retention deletes the raw events
-- and the visit rows, which hold visitor keys, and leaves the sketches,
-- which hold hashed state only. Times are Unix seconds.
CREATE TABLE IF NOT EXISTS visitor_sketches (
    site_id      INTEGER NOT NULL,
    granularity  TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    sketch       BLOB NOT NULL,
    PRIMARY KEY (site_id, granularity, window_start)
) WITHOUT ROWID;
