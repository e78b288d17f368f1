-- Analysts' notes on a site: annotations (dated notes drawn on the chart)
-- and saved segments (named sets of report filters).
CREATE TABLE IF NOT EXISTS annotations (
    id         TEXT PRIMARY KEY,
    site_id    INTEGER NOT NULL,
    day        TEXT NOT NULL,
    text       TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS annotations_site ON annotations (site_id, day);

CREATE TABLE IF NOT EXISTS segments (
    id         TEXT PRIMARY KEY,
    site_id    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    filters    TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_site ON segments (site_id);
