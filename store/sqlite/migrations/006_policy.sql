-- When each consent policy version of a site took effect.
CREATE TABLE IF NOT EXISTS policy_versions (
    site_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    since   INTEGER NOT NULL,
    PRIMARY KEY (site_id, version)
);
