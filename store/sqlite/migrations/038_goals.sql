-- Goals added through the admin API (the config file's are not stored).
-- props: the goal's properties as a JSON object.
CREATE TABLE IF NOT EXISTS goals (
    id         TEXT PRIMARY KEY,
    site_id    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    page       TEXT NOT NULL,
    event      TEXT NOT NULL,
    props      TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS goals_site ON goals (site_id);
