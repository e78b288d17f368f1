-- Analysts' notes on a site: annotations (dated notes drawn on the chart)
-- and saved segments (named sets of report filters). As the access tables,
-- a ReplacingMergeTree on version read with FINAL: a change is a newer row
-- of the same id, a deletion one with deleted = 1.
CREATE TABLE IF NOT EXISTS annotations
(
    id         String,
    site_id    UInt32,
    day        Date,
    text       String,
    author     String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS segments
(
    id         String,
    site_id    UInt32,
    name       String,
    filters    String,
    author     String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
