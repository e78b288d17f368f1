-- Goals added through the admin API (the config file's are not stored).
-- As the notes tables, a ReplacingMergeTree on version read with FINAL: a
-- change is a newer row of the same id, a deletion one with deleted = 1.
-- props: the goal's properties as a JSON object.
CREATE TABLE IF NOT EXISTS goals
(
    id         String,
    site_id    UInt32,
    name       String,
    page       String,
    event      String,
    props      String,
    author     String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
