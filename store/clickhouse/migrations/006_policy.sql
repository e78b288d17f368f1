-- When each consent policy version of a site took effect; readers take the
-- earliest row of a version (two servers may record it at once).
CREATE TABLE IF NOT EXISTS policy_versions
(
    site_id UInt32,
    version UInt32,
    since   DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (site_id, version);
